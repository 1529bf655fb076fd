import type { Clock } from '@gl-vcci/breaker-core';
import { detachCause, raceAbort, SingleFlight } from '@gl-vcci/breaker-core/client';
import type { AxiosInstance } from 'axios';
import { ErpUpstreamError, type PageTarget } from './errors.js';
import type { ErpAuth } from './types.js';

/** Renew an OAuth2 token this long before it expires, or at 90 % of a shorter lifetime. */
const RENEW_BEFORE_MS = 60_000;

/** A system's credentials as request headers; OAuth2 tokens fetched, cached and renewed here. */
export interface Credentials {
  /** The Authorization header of the next request (may fetch a token, through `signal`). */
  header(target: PageTarget, signal: AbortSignal): Promise<string>;
  /** A 401 answered this header: true when a fresh one can be tried (an OAuth2 token), which the next `header()` fetches. */
  refused(header: string): boolean;
  /** Every secret value this system's requests carry, to redact from errors and messages. */
  secrets(): string[];
}

export function credentials(auth: ErpAuth, http: AxiosInstance, clock: Clock, closing: AbortSignal): Credentials {
  if (auth.type === 'basic') {
    const header = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    return { header: async () => header, refused: () => false, secrets: () => [auth.password, header] };
  }
  if (auth.type === 'bearer') {
    const header = `Bearer ${auth.token}`;
    return { header: async () => header, refused: () => false, secrets: () => [auth.token, header] };
  }
  return new OAuth2Credentials(auth, http, clock, closing);
}

interface Token {
  header: string;
  renewAt: number;
}

/**
 * OAuth2 client credentials (RFC 6749 §4.4): client authentication by HTTP Basic, the token kept
 * until shortly before `expires_in` runs out (registry clock) and fetched once for all concurrent
 * pages. A token the system refuses with 401 is dropped and fetched anew once.
 */
class OAuth2Credentials implements Credentials {
  #token: Token | undefined;
  /** The tokens issued lately (an old one may still be echoed in an error). */
  readonly #seen: string[] = [];
  readonly #flight = new SingleFlight<Token>();
  readonly #basic: string;

  constructor(
    private readonly auth: Extract<ErpAuth, { type: 'oauth2' }>,
    private readonly http: AxiosInstance,
    private readonly clock: Clock,
    private readonly closing: AbortSignal,
  ) {
    this.#basic = Buffer.from(`${encodeURIComponent(auth.clientId)}:${encodeURIComponent(auth.clientSecret)}`).toString(
      'base64',
    );
  }

  async header(target: PageTarget, signal: AbortSignal): Promise<string> {
    const token = this.#token;
    if (token && this.clock.now() < token.renewAt) return token.header;
    // The shared fetch runs on the closing signal only: one caller giving up must not fail the others'.
    const fresh = await raceAbort(
      this.#flight.run('token', () => this.#fetch(target)),
      signal,
    );
    return fresh.header;
  }

  refused(header: string): boolean {
    if (this.#token?.header === header) this.#token = undefined;
    return true;
  }

  secrets(): string[] {
    return [this.auth.clientSecret, this.#basic, ...this.#seen];
  }

  async #fetch(target: PageTarget): Promise<Token> {
    const { tokenUrl, scope } = this.auth;
    const form = new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) });
    const where = 'the OAuth2 token endpoint';
    let response: { status: number; data: string };
    try {
      response = await this.http.post<string>(tokenUrl, form.toString(), {
        baseURL: '',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${this.#basic}` },
        signal: this.closing,
      });
    } catch (error) {
      throw new ErpUpstreamError(target, undefined, detachCause(error, this.secrets()), where);
    }
    if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
      // invalid_client / invalid_grant / unauthorized_client: the deployment's credentials, whatever
      // the 4xx; the status is kept as sent, so on-call reads what the endpoint said.
      throw new ErpUpstreamError(target, response.status, undefined, where, true);
    }
    if (response.status !== 200) throw new ErpUpstreamError(target, response.status, undefined, where);
    let body: { access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(response.data) as typeof body;
    } catch {
      throw new ErpUpstreamError(target, undefined, new Error('the token answer is not JSON'), where);
    }
    if (typeof body.access_token !== 'string' || body.access_token === '') {
      throw new ErpUpstreamError(target, undefined, new Error('the token answer has no access_token'), where);
    }
    this.#seen.push(body.access_token);
    if (this.#seen.length > 8) this.#seen.shift();
    const lifetimeMs = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in * 1000 : 3_600_000;
    const token = {
      header: `Bearer ${body.access_token}`,
      renewAt: this.clock.now() + Math.max(lifetimeMs - RENEW_BEFORE_MS, lifetimeMs * 0.9),
    };
    this.#token = token;
    return token;
  }
}
