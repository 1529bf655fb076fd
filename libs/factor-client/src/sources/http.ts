import { parseRetryAfter } from '@gl-vcci/breaker-core';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import {
  FactorMalformedError,
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
}

/** One live lookup against a source: resolves with the factor or throws a typed error (see classify.ts). */
export type SourceFetcher = (query: FactorQuery, signal: AbortSignal) => Promise<LiveFactor>;

/**
 * axios with every status resolved (the client maps statuses itself) and the body kept as text
 * (axios would otherwise hand back invalid JSON as a string, silently). `timeout` is only the idle
 * timer; the deadline is the breaker's, through `signal`.
 */
export function createSourceFetcher(o: SourceFetcherOptions): SourceFetcher {
  const http: AxiosInstance = axios.create({
    baseURL: o.baseUrl,
    headers: { accept: 'application/json', ...o.headers },
    timeout: o.idleTimeoutMs,
    validateStatus: () => true,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    maxRedirects: 0,
  });
  return async (query, signal) => {
    const target = { source: o.adapter.name, activity: query.activity, region: query.region, year: query.year };
    const { path, params } = o.adapter.request(query);
    let response: AxiosResponse<string>;
    try {
      response = await http.get<string>(path, { params, signal });
    } catch (error) {
      throw new FactorUpstreamError(target, undefined, error);
    }
    const { status } = response;
    const retryAfter = () => parseRetryAfter(response.headers['retry-after'], Date.now(), o.maxRetryAfterMs);
    if (status === 429 || (status === 503 && response.headers['retry-after'] !== undefined)) {
      throw new FactorRateLimitedError(target, status, retryAfter());
    }
    if (status >= 500 || status === 408) throw new FactorUpstreamError(target, status);
    if (status === 404) throw new FactorNotFoundError(target, detailOf(response.data));
    if (status >= 400) throw new FactorRequestError(target, status, detailOf(response.data));
    if (status !== 200) throw new FactorMalformedError(target, `expected HTTP 200, got ${status}`);
    let body: unknown;
    try {
      body = JSON.parse(String(response.data));
    } catch {
      throw new FactorMalformedError(target, 'the body is not JSON');
    }
    const row = o.adapter.row(body);
    const factor = typeof row === 'string' ? row : readRow(row, query);
    if (typeof factor === 'string') throw new FactorMalformedError(target, factor);
    return factor;
  };
}

/** The `message` of a JSON error body, for the caller's error; never the whole body. */
function detailOf(data: unknown): string {
  try {
    const message = (JSON.parse(String(data)) as { message?: unknown } | null)?.message;
    return typeof message === 'string' ? message.slice(0, 200) : '';
  } catch {
    return '';
  }
}
