import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { type Clock, parseRetryAfter } from '@gl-vcci/breaker-core';
import { detachCause, httpStatusClass, redactSecrets } from '@gl-vcci/breaker-core/client';
import axios, { type AxiosResponse } from 'axios';
import { type Credentials, credentials } from '../auth.js';
import {
  ErpMalformedError,
  ErpRateLimitedError,
  ErpRequestError,
  ErpUpstreamError,
  type PageTarget,
} from '../errors.js';
import type { ErpAuth, ErpListKind } from '../types.js';
import { type ListQuery, Malformed, type PageReading, type PageRequest, type SystemAdapter } from './adapter.js';

export interface PageFetcherOptions {
  adapter: SystemAdapter;
  baseUrl: string;
  auth: ErpAuth;
  idleTimeoutMs: number;
  maxRetryAfterMs: number;
  clock: Clock;
  /** Aborted by the client's `close()`: cuts running requests with its reason. */
  closing: AbortSignal;
}

/** One system's pages over HTTP: each resolves with the page read or throws a typed error (see classify.ts). */
export interface PageFetcher {
  fetch(
    kind: ErpListKind,
    request: PageRequest,
    query: ListQuery,
    target: PageTarget,
    signal: AbortSignal,
  ): Promise<PageReading>;
  /** Every secret this system's requests carry (for redaction elsewhere). */
  secrets(): string[];
  /** Closes the keep-alive sockets: nothing of this system is left open. */
  close(): void;
}

/**
 * axios with every status resolved (mapped here), the body kept as text (read as JSON here, so a
 * broken page is a failure, not a string), no redirects (credentials never follow one), on agents
 * of its own so `close()` leaves no socket. `timeout` is only the idle timer; the page deadline is
 * the breaker's, through `signal`. axios errors are kept as `cause` only detached: their
 * `config.headers` hold the Authorization header.
 */
export function createPageFetcher(o: PageFetcherOptions): PageFetcher {
  const httpAgent = new HttpAgent({ keepAlive: true });
  const httpsAgent = new HttpsAgent({ keepAlive: true });
  const http = axios.create({
    baseURL: o.baseUrl,
    timeout: o.idleTimeoutMs,
    validateStatus: () => true,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    maxRedirects: 0,
    httpAgent,
    httpsAgent,
    // %20 for spaces, as OData and ADF query languages expect; every key and value encoded.
    paramsSerializer: {
      serialize: (params: Record<string, string>) =>
        Object.entries(params)
          .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
          .join('&'),
    },
  });
  const creds: Credentials = credentials(o.auth, http, o.clock, o.closing);

  const get = async (request: PageRequest, target: PageTarget, signal: AbortSignal, header: string) => {
    try {
      return await http.get<string>(request.path, {
        params: request.params,
        headers: { accept: 'application/json', authorization: header },
        signal: AbortSignal.any([signal, o.closing]),
      });
    } catch (error) {
      if (o.closing.aborted) throw o.closing.reason;
      if (signal.aborted) throw signal.reason;
      throw new ErpUpstreamError(target, undefined, detachCause(error, creds.secrets()));
    }
  };

  const fetch = async (
    kind: ErpListKind,
    request: PageRequest,
    query: ListQuery,
    target: PageTarget,
    signal: AbortSignal,
  ): Promise<PageReading> => {
    let header = await creds.header(target, signal);
    let response: AxiosResponse<string> = await get(request, target, signal, header);
    // An OAuth2 token the system no longer accepts (expired early, revoked): one fresh token, one replay.
    if (response.status === 401 && creds.refused(header)) {
      header = await creds.header(target, signal);
      response = await get(request, target, signal, header);
    }
    const { status } = response;
    const retryAfter = response.headers['retry-after'];
    // 401/403 are failures: the deployment's credentials, not the caller's request (logged at error).
    switch (httpStatusClass(status, retryAfter !== undefined)) {
      case 'rate_limited':
        throw new ErpRateLimitedError(target, status, parseRetryAfter(retryAfter, Date.now(), o.maxRetryAfterMs));
      case 'failure':
        throw new ErpUpstreamError(target, status);
      case 'request':
        throw new ErpRequestError(target, status, detailOf(response.data, creds.secrets()));
    }
    if (status !== 200) throw new ErpMalformedError(target, `expected HTTP 200, got ${status}`);
    let body: unknown;
    try {
      body = JSON.parse(String(response.data));
    } catch {
      throw new ErpMalformedError(target, 'the body is not JSON');
    }
    try {
      return o.adapter.read(kind, body, request, query);
    } catch (error) {
      if (error instanceof Malformed)
        throw new ErpMalformedError(target, redactSecrets(error.message, creds.secrets()));
      throw error;
    }
  };

  return {
    fetch,
    secrets: () => creds.secrets(),
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

/**
 * What a 4xx body says, for the caller's error (at most 200 characters, secrets removed): SAP's
 * `error.message.value`, Oracle's `o:errorDetails[0].detail` or `title`, Workday's `error`.
 */
function detailOf(data: unknown, secrets: readonly string[]): string {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(String(data)) as Record<string, unknown>;
  } catch {
    return '';
  }
  const pick = (...values: unknown[]) => values.find((v): v is string => typeof v === 'string' && v !== '');
  const sap = (body?.error as { message?: { value?: unknown } } | undefined)?.message?.value;
  const oracle = (body?.['o:errorDetails'] as Array<{ detail?: unknown }> | undefined)?.[0]?.detail;
  const found = pick(sap, oracle, body?.error, body?.title, body?.message);
  return found === undefined ? '' : redactSecrets(found, secrets).slice(0, 200);
}
