import { afterEach, describe, expect, it } from 'vitest';
import { type HttpSimulator, json, startHttpSimulator } from './http-simulator.js';
import { answers } from './servers.js';

let sim: HttpSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const start = async () => {
  sim = await startHttpSimulator({
    'GET /factors/:id': (request, response) => json(response, 200, { id: request.path.split('/')[2], value: 0.2 }),
  });
  return sim;
};

describe('startHttpSimulator', () => {
  it('answers healthy routes through their handler and records every request', async () => {
    const s = await start();
    const response = await fetch(`${s.url}/factors/diesel?region=GB`);
    expect(await response.json()).toEqual({ id: 'diesel', value: 0.2 });
    expect(s.requests.map((r) => [r.method, r.path, r.query.get('region')])).toEqual([
      ['GET', '/factors/diesel', 'GB'],
    ]);
  });

  it('answers a status with its headers, e.g. 429 with Retry-After', async () => {
    const s = await start();
    s.mode('GET /factors/:id', { status: 429, headers: { 'retry-after': '30' } });
    const response = await fetch(`${s.url}/factors/x`);
    expect([response.status, response.headers.get('retry-after')]).toEqual([429, '30']);
  });

  it('flaps: `every` healthy answers, then `every` failures', async () => {
    const s = await start();
    s.mode('*', { flap: { every: 2, failure: { status: 503 } } });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await fetch(`${s.url}/factors/x`)).status);
    expect(statuses).toEqual([200, 200, 503, 503, 200, 200]);
  });

  it('sends a malformed body, resets the connection, and refuses connections while stopped', async () => {
    const s = await start();
    s.mode('*', 'malformed');
    await expect((await fetch(`${s.url}/factors/x`)).json()).rejects.toThrow(SyntaxError);
    s.mode('*', 'reset');
    await expect(fetch(`${s.url}/factors/x`)).rejects.toThrow();
    await s.stop();
    expect(await answers('127.0.0.1', s.port)).toBe(false);
    s.mode('*', 'healthy');
    await s.start();
    expect((await fetch(`${s.url}/factors/x`)).status).toBe(200);
  });

  it('drips the healthy answer a few bytes at a time, whole in the end', async () => {
    const s = await start();
    s.mode('*', { drip: { intervalMs: 5, chunks: 4 } });
    expect(await (await fetch(`${s.url}/factors/y`)).json()).toEqual({ id: 'y', value: 0.2 });
  });

  it('hangs: the request is read and never answered', async () => {
    const s = await start();
    s.mode('*', 'hang');
    const signal = AbortSignal.timeout(100);
    await expect(fetch(`${s.url}/factors/x`, { signal })).rejects.toThrow();
    expect(s.requests).toHaveLength(1);
  });
});
