import { randomBytes } from 'node:crypto';
import { type FailureMode, type HttpSimulator, json, startHttpSimulator } from './http-simulator.js';

export interface OAuth2SimulatorOptions {
  /** Client id → secret of the clients allowed the client-credentials grant. */
  clients: Record<string, string>;
  /** Path of the token endpoint (default `/oauth2/v1/token`, Oracle IDCS'). */
  path?: string;
  /** `expires_in` of every token, in seconds (default 3 600). */
  expiresIn?: number;
}

export interface OAuth2Simulator {
  /** The full token URL. */
  readonly tokenUrl: string;
  readonly http: HttpSimulator;
  /** Tokens issued so far, oldest first. */
  readonly issued: string[];
  /** Whether a resource server should accept this token (issued here and not expired by `expireTokens`). */
  isValid(token: string): boolean;
  /** Every token issued so far stops being accepted (the resource servers answer 401 invalid_token). */
  expireTokens(): void;
  /** Failure mode of the token endpoint. */
  mode(mode: FailureMode): void;
  close(): Promise<void>;
}

/**
 * An OAuth2 token endpoint for the client-credentials grant (RFC 6749 §4.4): `POST` form
 * `grant_type=client_credentials[&scope=]`, client authentication by Basic or by
 * `client_id`/`client_secret` in the body. 200 `{ access_token, token_type: "bearer", expires_in }`
 * with `Cache-Control: no-store`; 400 `unsupported_grant_type`; 401 `invalid_client` (with
 * `WWW-Authenticate: Basic` when Basic was used).
 */
export async function startOAuth2Simulator(options: OAuth2SimulatorOptions): Promise<OAuth2Simulator> {
  const path = options.path ?? '/oauth2/v1/token';
  const expiresIn = options.expiresIn ?? 3_600;
  const issued: string[] = [];
  const valid = new Set<string>();
  const route = `POST ${path}`;
  const http = await startHttpSimulator({
    [route]: (request, res) => {
      const form = new URLSearchParams(typeof request.body === 'string' ? request.body : '');
      let id = form.get('client_id');
      let secret = form.get('client_secret');
      const header = request.headers.authorization;
      const basic = typeof header === 'string' && header.toLowerCase().startsWith('basic ');
      if (basic) {
        const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        id = decodeURIComponent(decoded.slice(0, colon));
        secret = decodeURIComponent(decoded.slice(colon + 1));
      }
      if (form.get('grant_type') !== 'client_credentials') {
        return json(res, 400, { error: 'unsupported_grant_type', error_description: 'only client_credentials' });
      }
      if (id === null || secret === null || options.clients[id] !== secret) {
        return json(
          res,
          401,
          { error: 'invalid_client', error_description: 'client authentication failed' },
          basic ? { 'www-authenticate': 'Basic realm="token"' } : {},
        );
      }
      const token = randomBytes(24).toString('base64url');
      issued.push(token);
      valid.add(token);
      json(
        res,
        200,
        { access_token: token, token_type: 'bearer', expires_in: expiresIn },
        { 'cache-control': 'no-store', pragma: 'no-cache' },
      );
    },
  });
  return {
    tokenUrl: `${http.url}${path}`,
    http,
    issued,
    isValid: (token) => valid.has(token),
    expireTokens: () => valid.clear(),
    mode: (mode) => http.mode(route, mode),
    close: () => http.close(),
  };
}
