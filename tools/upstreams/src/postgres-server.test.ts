import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresServer, startPostgres } from './postgres-server.js';
import { answers } from './servers.js';

// psql rather than a driver: this package depends on no database client.
function psql(server: PostgresServer, sql: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'psql',
      ['-X', '-A', '-t', '-h', server.host, '-p', String(server.port), '-U', 'postgres', '-d', 'postgres', '-c', sql],
      (error, stdout, stderr) => (error ? reject(new Error(stderr || error.message)) : resolve(stdout.trim())),
    );
  });
}

describe('startPostgres', () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await startPostgres({ maxConnections: 7 });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('serves SQL on its own port with the max_connections asked for', async () => {
    expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);
    expect(await psql(server, 'SHOW max_connections')).toBe('7');
  });

  it('stop refuses connections and start serves again', async () => {
    await server.stop('fast');
    expect(await answers(server.host, server.port)).toBe(false);
    await server.start();
    expect(await psql(server, 'SELECT 1')).toBe('1');
  });

  it('kill ends the server at once and start recovers it', async () => {
    await server.kill();
    expect(await answers(server.host, server.port)).toBe(false);
    await server.start();
    expect(await psql(server, 'SELECT 2')).toBe('2');
  });

  it('pause hangs the server (a query gets no answer) and resume lets it answer again', async () => {
    const pending = psql(server, 'SELECT 3');
    server.pause();
    try {
      // psql's own connect timeout would take seconds: a pending answer is what a hung server gives.
      const first = await Promise.race([pending, new Promise((resolve) => setTimeout(resolve, 300, 'no answer'))]);
      expect(first).toBe('no answer');
    } finally {
      server.resume();
    }
    expect(await pending).toBe('3');
  });

  it('close stops the server and removes its directory', async () => {
    expect(existsSync(`${server.directory}/data/PG_VERSION`)).toBe(true);
    await server.close();
    expect(await answers(server.host, server.port)).toBe(false);
    expect(existsSync(server.directory)).toBe(false);
  });
});
