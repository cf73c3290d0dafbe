import { afterEach } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

export type Responder = (req: SeenRequest, n: number) => { status: number; headers?: Record<string, string>; body?: unknown; delayMs?: number };

/** A loopback HTTP server that records requests and answers through `respond`. */
export async function startServer(respond: Responder) {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: SeenRequest = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      seen.push(r);
      const out = respond(r, seen.length);
      const send = () => {
        if (res.destroyed) return;
        const body = out.body === undefined ? '' : typeof out.body === 'string' ? out.body : JSON.stringify(out.body);
        res.writeHead(out.status, { 'content-type': typeof out.body === 'string' ? 'text/plain' : 'application/json', ...out.headers });
        res.end(body);
      };
      if (out.delayMs) setTimeout(send, out.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** A `serve(responder)` for a test file: every server it starts is closed after each test. */
export function useLoopbackServers(): (respond: Responder) => ReturnType<typeof startServer> {
  let servers: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close()));
    servers = [];
  });
  return async (respond: Responder) => {
    const s = await startServer(respond);
    servers.push(s);
    return s;
  };
}
