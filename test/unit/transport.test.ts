// The undici transport's own guarantees on a loopback server: one overall deadline per attempt (a body
// that keeps trickling in is cut off even though no gap between chunks is long), the response size cap,
// a body cut short, and keep-alive (sequential requests reuse connections).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_RESPONSE_BYTES, TransportError, UndiciTransport } from '../../runtime/http/transport.ts';

const servers: http.Server[] = [];
const transports: UndiciTransport[] = [];
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

async function serve(handler: http.RequestListener): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const server = http.createServer(handler);
  server.on('connection', () => connections++);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`, connections: () => connections };
}

function transport(): UndiciTransport {
  const t = new UndiciTransport();
  transports.push(t);
  return t;
}

const get = (url: string, timeoutMs = 5000) => ({ method: 'GET', url, headers: {}, timeoutMs });

describe('UndiciTransport', () => {
  it('ends an attempt at its deadline while the body still trickles in', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const tick = setInterval(() => res.write('.'), 40);
      res.on('close', () => clearInterval(tick));
    });
    const started = Date.now();
    const err = await transport().send(get(s.url, 300)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ reason: 'timeout' });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('refuses an answer larger than the cap', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 'a');
    const s = await serve((_req, res) => {
      res.writeHead(200);
      let sent = 0;
      const more = () => {
        while (sent <= MAX_RESPONSE_BYTES && res.write(chunk)) sent += chunk.length;
        if (sent <= MAX_RESPONSE_BYTES) res.once('drain', () => { sent += chunk.length; more(); });
        else res.end();
      };
      more();
    });
    await expect(transport().send(get(s.url))).rejects.toMatchObject({ reason: 'network', message: expect.stringContaining('larger than') });
  });

  it('fails a body the server cuts short as a network error', async () => {
    const s = await serve((req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setTimeout(() => req.socket.destroy(), 20);
    });
    await expect(transport().send(get(s.url))).rejects.toMatchObject({ reason: 'network' });
  });

  it('answers status, lower-case headers and body, over kept-alive connections', async () => {
    const s = await serve((_req, res) => {
      res.setHeader('X-Request-Id', 'r1');
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    const t = transport();
    for (let i = 0; i < 10; i++) {
      const r = await t.send(get(s.url));
      expect(r).toMatchObject({ status: 201, headers: { 'x-request-id': 'r1', 'set-cookie': 'a=1, b=2', 'content-type': 'application/json' } });
      expect(r.body.toString()).toBe('{"ok":true}');
    }
    // undici may open a second socket while the first is being released; never one per request.
    expect(s.connections()).toBeLessThanOrEqual(2);
  });
});
