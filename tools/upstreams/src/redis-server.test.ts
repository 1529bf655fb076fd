import { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { processState, type RedisServer, startRedis } from './redis-server.js';
import { answers } from './servers.js';

/** Sends PING on a fresh connection; resolves with the first reply line once it comes. */
function ping(port: number): { reply: Promise<string>; socket: Socket } {
  const socket = new Socket();
  const reply = new Promise<string>((resolve, reject) => {
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk.toString();
      if (data.includes('\r\n')) {
        socket.destroy();
        resolve(data.split('\r\n')[0]!);
      }
    });
    socket.once('error', reject);
  });
  socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  return { reply, socket };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startRedis', () => {
  let server: RedisServer | undefined;
  afterEach(async () => {
    await server?.kill();
    server = undefined;
  });

  it('starts a server on a free port that answers PING', async () => {
    server = await startRedis();
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    await expect(ping(server.port).reply).resolves.toBe('+PONG');
  });

  it('pause() stops the process and resume() answers what was sent meanwhile', async () => {
    server = await startRedis();
    await server.pause();
    expect(processState(server.pid!)).toBe('T');
    const pending = ping(server.port);
    server.resume();
    await expect(pending.reply).resolves.toBe('+PONG');
  });

  it('kill() ends the process and restart() brings it back on the same port', async () => {
    server = await startRedis();
    const { pid, port } = server;
    await server.kill();
    expect(alive(pid!)).toBe(false);
    expect(server.running).toBe(false);
    expect(await answers('127.0.0.1', port)).toBe(false);
    await server.restart();
    expect(server.port).toBe(port);
    await expect(ping(port).reply).resolves.toBe('+PONG');
  });

  it('stop() ends a paused server too', async () => {
    server = await startRedis();
    const pid = server.pid!;
    await server.pause();
    await server.stop();
    expect(alive(pid)).toBe(false);
  });

  it('fails with the server output when the port is taken', async () => {
    server = await startRedis();
    await expect(startRedis({ port: server.port })).rejects.toThrow(
      /exited before it was ready[\s\S]*Address already in use/,
    );
  });
});
