import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

let echo: Server;
let echoPort: number;
const serverSockets = new Set<Socket>();

beforeAll(async () => {
  echo = createServer((socket) => {
    serverSockets.add(socket);
    socket.on('close', () => serverSockets.delete(socket));
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as { port: number }).port;
});

afterAll(async () => {
  for (const socket of serverSockets) socket.destroy();
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

let proxy: TcpProxy;
const clients: Socket[] = [];

beforeEach(async () => {
  proxy = await startTcpProxy({ target: { host: '127.0.0.1', port: echoPort } });
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await proxy.close();
});

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(proxy.port, '127.0.0.1');
    clients.push(socket);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** What the socket receives within `ms` (a bounded wait for something that may never come). */
function receive(socket: Socket, ms: number): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
    };
    socket.on('data', onData);
    setTimeout(() => {
      socket.off('data', onData);
      resolve(text);
    }, ms);
  });
}

function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once('close', () => resolve());
  });
}

describe('startTcpProxy', () => {
  it('forwards both ways in pass mode', async () => {
    const socket = await open();
    socket.write('hello');
    expect(await receive(socket, 100)).toBe('hello');
  });

  it('cut destroys open connections and refuses new ones until pass', async () => {
    const socket = await open();
    await proxy.mode('cut');
    await closed(socket);
    await expect(open()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await proxy.mode('pass');
    const again = await open();
    again.write('back');
    expect(await receive(again, 100)).toBe('back');
  });

  it('blackhole accepts connections but forwards nothing, and releases the held bytes in pass mode', async () => {
    await proxy.mode('blackhole');
    const socket = await open();
    socket.write('held');
    expect(await receive(socket, 150)).toBe('');
    expect(proxy.connections).toBe(1);
    const later = receive(socket, 150);
    await proxy.mode('pass');
    expect(await later).toBe('held');
  });

  it('delay forwards every chunk that much later, in order', async () => {
    await proxy.mode({ delayMs: 150 });
    const socket = await open();
    socket.write('a');
    socket.write('b');
    expect(await receive(socket, 100)).toBe('');
    expect(await receive(socket, 400)).toBe('ab');
  });

  it('refuses a negative delay', async () => {
    await expect(proxy.mode({ delayMs: -1 })).rejects.toThrow('delayMs: expected a non-negative number, got -1');
  });

  it('close destroys every connection it holds', async () => {
    const socket = await open();
    await proxy.close();
    await closed(socket);
    expect(proxy.connections).toBe(0);
  });
});
