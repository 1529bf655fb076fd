import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { parseRetryAfter } from '@gl-vcci/breaker-core';
import { detachCause, httpStatusClass, redactSecrets } from '@gl-vcci/breaker-core/client';
import axios, { type AxiosResponse } from 'axios';
import {
  FactorMalformedError,
  FactorMismatchError,
  FactorNotFoundError,
  FactorRateLimitedError,
  FactorRequestError,
  FactorUpstreamError,
} from '../errors.js';
import type { FactorQuery } from '../types.js';
import { type LiveFactor, readRow, type SourceAdapter } from './adapter.js';

export interface SourceFetcherOptions {
  adapter: SourceAdapter;
  baseUrl: string;
  headers: Record<string, string>;
  idleTimeoutMs: number;
  maxRetryAfterMs: number;
  /** Aborted by the client's `close()` (the circuit passes it on in each call's signal). */
  closing: AbortSignal;
}

/** One source's live lookups: each resolves with the factor or throws a typed error (see classify.ts). */
export interface SourceFetcher {
  fetch(query: FactorQuery, signal: AbortSignal): Promise<LiveFactor>;
  /** Closes the keep-alive sockets: nothing of this source is left open. */
  close(): void;
}

/**
 * axios with every status resolved (statuses are mapped here) and the body kept as text (axios
 * would otherwise hand back invalid JSON as a string, silently), on agents of its own so `close()`
 * leaves no socket behind. `timeout` is only the idle timer; the deadline is the breaker's, through
 * `signal`. Every axios error is kept as `cause` only detached (FactorUpstreamError does it): its
 * `config.headers` hold the API key.
 */
export function createSourceFetcher(o: SourceFetcherOptions): SourceFetcher {
  // A source may echo the key it was sent in an error body or message: never into our errors.
  const secrets = Object.values(o.headers);
  const httpAgent = new HttpAgent({ keepAlive: true });
  const httpsAgent = new HttpsAgent({ keepAlive: true });
  const http = axios.create({
    baseURL: o.baseUrl,
    headers: { accept: 'application/json', ...o.headers },
    timeout: o.idleTimeoutMs,
    validateStatus: () => true,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    maxRedirects: 0,
    httpAgent,
    httpsAgent,
  });

  const fetch = async (query: FactorQuery, signal: AbortSignal): Promise<LiveFactor> => {
    const target = { source: o.adapter.name, activity: query.activity, region: query.region, year: query.year };
    const { path, params } = o.adapter.request(query);
    let response: AxiosResponse<string>;
    try {
      response = await http.get<string>(path, { params, signal });
    } catch (error) {
      if (o.closing.aborted) throw o.closing.reason;
      throw new FactorUpstreamError(target, undefined, detachCause(error, secrets));
    }
    const { status } = response;
    const retryAfter = response.headers['retry-after'];
    // 401/403 are failures: the deployment's credentials, not the caller's question (logged at error).
    switch (httpStatusClass(status, retryAfter !== undefined)) {
      case 'rate_limited':
        throw new FactorRateLimitedError(target, status, parseRetryAfter(retryAfter, Date.now(), o.maxRetryAfterMs));
      case 'failure':
        throw new FactorUpstreamError(target, status);
      case 'request':
        if (status === 404) throw new FactorNotFoundError(target, detailOf(response.data, secrets));
        throw new FactorRequestError(target, status, detailOf(response.data, secrets));
    }
    if (status !== 200) throw new FactorMalformedError(target, `expected HTTP 200, got ${status}`);
    let body: unknown;
    try {
      body = JSON.parse(String(response.data));
    } catch {
      throw new FactorMalformedError(target, 'the body is not JSON');
    }
    const found = o.adapter.row(body);
    const reading = 'malformed' in found ? found : readRow(found.row, query);
    // Both quote what the source sent, which a misconfigured proxy may fill with our own headers.
    if ('malformed' in reading) throw new FactorMalformedError(target, redactSecrets(reading.malformed, secrets));
    if ('mismatch' in reading) throw new FactorMismatchError(target, redactSecrets(reading.mismatch, secrets));
    return reading.factor;
  };

  return {
    fetch,
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

/** The `message` of a JSON error body, for the caller's error; never the whole body nor a key. */
function detailOf(data: unknown, secrets: readonly string[]): string {
  try {
    const message = (JSON.parse(String(data)) as { message?: unknown } | null)?.message;
    return typeof message === 'string' ? redactSecrets(message, secrets).slice(0, 200) : '';
  } catch {
    return '';
  }
}
