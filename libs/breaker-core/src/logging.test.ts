import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './breaker.js';
import { capturingLogger, flushPromises, ManualClock } from './testing.js';

describe('logging', () => {
  it('survives a rejection value that cannot be turned into a string: the circuit opens, nothing escapes', async () => {
    const { logger, lines } = capturingLogger();
    const breaker = new CircuitBreaker({ name: 'svc', clock: new ManualClock(), failMax: 1 }, { logger });
    const opened: string[] = [];
    breaker.onStateChange((c) => opened.push(c.to));
    const weird = Object.create(null);
    await expect(breaker.execute(() => Promise.reject(weird))).rejects.toBe(weird);
    await flushPromises();
    expect(breaker.state).toBe('open');
    expect(opened).toEqual(['open']);
    expect(lines[0]).toMatchObject({ msg: 'circuit opened', lastError: '[object Object]' });
  });

  it('logs each transition once: open at warn with reason and last error, close at info', async () => {
    const { logger, lines } = capturingLogger();
    const clock = new ManualClock();
    const breaker = new CircuitBreaker(
      { name: 'erp_connectors.sap', clock, failMax: 1, openDurationMs: 1_000 },
      { logger },
    );
    await breaker.execute(() => Promise.reject(new Error('ECONNREFUSED 10.0.0.7:443'))).catch(() => {});
    clock.advance(1_000);
    await breaker.execute(async () => 'ok');
    expect(lines.map((l) => [l.level, l.msg, l.circuit, l.reason])).toEqual([
      [40, 'circuit opened', 'erp_connectors.sap', 'failure_count'],
      [30, 'circuit half-open', 'erp_connectors.sap', 'open_duration_elapsed'],
      [30, 'circuit closed', 'erp_connectors.sap', 'trial_success'],
    ]);
    expect(lines[0]).toMatchObject({ lastError: 'ECONNREFUSED 10.0.0.7:443', openForMs: 1_000 });
  });

  it('logs openForMs in whole milliseconds when the clock and Retry-After are fractional', async () => {
    const { logger, lines } = capturingLogger();
    const clock = new ManualClock(1_764_490_000_123.456);
    const breaker = new CircuitBreaker({ name: 'svc', clock, failMax: 1, openDurationMs: 1_000 }, { logger });
    await breaker
      .execute(() => Promise.reject(Object.assign(new Error('429'), { retryAfterMs: 59_996.474365234375 })))
      .catch(() => {});
    expect(lines[0]).toMatchObject({ msg: 'circuit opened', openForMs: 59_996 });
  });

  it('redacts secrets by key at any depth and in any case', () => {
    const { logger, lines } = capturingLogger();
    logger.info(
      {
        password: 'p1',
        headers: { authorization: 'Bearer sk-1', 'x-api-key': 'sk-2' },
        err: { config: { headers: { Authorization: 'Bearer sk-3' } } },
        body: { api_key: 'sk-4' },
        deep: { a: { b: { c: { d: { AUTHORIZATION: 'sk-5', 'X-API-KEY': 'sk-6' } } } } },
      },
      'request',
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of ['p1', 'sk-1', 'sk-2', 'sk-3', 'sk-4', 'sk-5', 'sk-6']) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({ password: '[redacted]', headers: { 'x-api-key': '[redacted]' } });
  });

  it('drops the request an HTTP error carries, raw header text included, and keeps its status', () => {
    const { logger, lines } = capturingLogger();
    const error = Object.assign(new Error('Request failed with status code 503'), {
      code: 'ERR_BAD_RESPONSE',
      config: { headers: { Authorization: 'Bearer sk-7' } },
      request: { _header: 'GET /v1 HTTP/1.1\r\nAuthorization: Bearer sk-8\r\n' },
      response: { status: 503, config: { headers: { Authorization: 'Bearer sk-9' } } },
    });
    logger.warn({ err: error }, 'upstream failed');
    const text = JSON.stringify(lines[0]);
    for (const secret of ['sk-7', 'sk-8', 'sk-9']) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({
      err: { message: 'Request failed with status code 503', code: 'ERR_BAD_RESPONSE', status: 503 },
    });
  });

  it('logs an error under err with its class name, message and code, never as type "Object"', () => {
    const { logger, lines } = capturingLogger();
    class ConnectionTimeoutError extends Error {
      code = 'ETIMEDOUT';
    }
    logger.warn({ err: new ConnectionTimeoutError('connect timed out') }, 'redis connection failed');
    expect(lines[0]?.err).toMatchObject({
      type: 'ConnectionTimeoutError',
      message: 'connect timed out',
      code: 'ETIMEDOUT',
    });
  });
});
