// The HTTP transport behind the engine: undici (Node's own HTTP client) with keep-alive,
// an overall deadline per attempt and a cap on response size. Tests and the manifest test kit
// swap in other transports through the same interface.
import type { LookupFunction } from 'node:net';
import { request, Agent, type Dispatcher } from 'undici';
import { PlugboardError } from '../errors/plugboard-error.ts';
import { AddressPolicyError, bareHost, findAddressPolicyError, guardedLookup, literalHostProblem, type Resolver } from './address-policy.ts';

export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  timeoutMs: number;
  /**
   * The host was chosen by a tenant (a base URL from the credentials): connect only to public
   * addresses, judged on the addresses the socket uses (DNS rebinding). A refusal throws
   * AddressPolicyError before anything is sent.
   */
  publicOnly?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export class TransportError extends PlugboardError {
  constructor(
    readonly reason: 'timeout' | 'network',
    message: string,
    /** True when the request certainly never reached the server (safe to retry any method). */
    readonly notSent = false,
  ) {
    super('provider', message, { code: reason === 'timeout' ? 'timeout' : 'network_error' });
  }
}

export interface HttpTransport {
  send(req: HttpRequest): Promise<HttpResponse>;
}

export const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * The overall deadline of one attempt (connecting, waiting, reading), as the EventEmitter-style signal
 * undici accepts: one timer, cleared when the attempt ends. AbortSignal.timeout() costs an EventTarget,
 * a timer left to run out and a FinalizationRegistry entry on every request.
 */
class Deadline {
  aborted = false;
  reason: Error | undefined;
  private listener: (() => void) | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(ms: number) {
    this.timer = setTimeout(() => {
      this.aborted = true;
      this.reason = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
      const listener = this.listener;
      this.listener = undefined;
      listener?.();
    }, ms);
    this.timer.unref();
  }

  // undici registers one 'abort' listener per request and removes it when the response closes.
  on(_event: 'abort', listener: () => void): this {
    this.listener = listener;
    return this;
  }

  once(event: 'abort', listener: () => void): this {
    return this.on(event, listener);
  }

  removeListener(_event: 'abort', listener: () => void): this {
    if (this.listener === listener) this.listener = undefined;
    return this;
  }

  clear(): void {
    clearTimeout(this.timer);
    this.listener = undefined;
  }
}

/** A response body, refused past `limit` bytes; a body that closes before its end fails as the stream iterator would. */
function readCapped(body: Dispatcher.ResponseData['body'], limit: number): Promise<Buffer> {
  // Handlers are inline on purpose: named closures made per call cost more than the read itself under tsx (keepNames).
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
      } else if (!settled) {
        settled = true;
        reject(new TransportError('network', `response larger than ${limit} bytes`));
        body.destroy();
      }
    });
    body.on('end', () => {
      if (!settled) resolve(Buffer.concat(chunks, size));
      settled = true;
    });
    body.on('error', (err: Error) => {
      if (!settled) reject(err);
      settled = true;
    });
    body.on('close', () => {
      if (!settled) reject(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
      settled = true;
    });
  });
}

export class UndiciTransport implements HttpTransport {
  private readonly dispatcher: Dispatcher;
  private guarded?: Dispatcher;

  /** `lookup` replaces DNS resolution (tests resolve names without the network); `resolver` is the DNS of publicOnly requests. */
  constructor(private readonly opts: { connections?: number; lookup?: LookupFunction; resolver?: Resolver } = {}) {
    this.dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: opts.connections ?? 128, connect: { timeout: 10_000, ...(opts.lookup ? { lookup: opts.lookup } : {}) } });
  }

  /** The agent of publicOnly requests: its connections only reach public addresses. */
  private guardedDispatcher(): Dispatcher {
    this.guarded ??= new Agent({ keepAliveTimeout: 10_000, connections: this.opts.connections ?? 128, connect: { timeout: 10_000, lookup: guardedLookup({ resolver: this.opts.resolver }) as never } });
    return this.guarded;
  }

  async send(req: HttpRequest): Promise<HttpResponse> {
    if (req.publicOnly) {
      // IP literals (and localhost) never reach a lookup: judged here.
      let host = '';
      try {
        host = bareHost(new URL(req.url));
      } catch {
        throw new TransportError('network', `invalid URL: ${req.url.slice(0, 200)}`, true);
      }
      const why = literalHostProblem(host);
      if (why) throw new AddressPolicyError(`connection refused: the host ${why}`, why);
    }
    const signal = new Deadline(req.timeoutMs);
    try {
      const res = await request(req.url, {
        method: req.method as Dispatcher.HttpMethod,
        headers: req.headers,
        body: req.body,
        signal,
        dispatcher: req.publicOnly ? this.guardedDispatcher() : this.dispatcher,
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
      });
      const body = await readCapped(res.body, MAX_RESPONSE_BYTES);
      const headers: Record<string, string> = {};
      for (const k in res.headers) {
        const v = res.headers[k];
        if (v !== undefined) headers[k.toLowerCase()] = typeof v === 'string' ? v : Array.isArray(v) ? v.join(', ') : String(v);
      }
      return { status: res.statusCode, headers, body };
    } catch (err) {
      if (err instanceof TransportError) throw err;
      const refused = findAddressPolicyError(err);
      if (refused) throw refused;
      const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string } };
      const code = e.code ?? e.cause?.code;
      if (signal.aborted || e.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
        throw new TransportError('timeout', `no answer within ${req.timeoutMs} ms`);
      }
      throw new TransportError('network', `${code ?? 'network error'}: ${e.message ?? 'request failed'}`, NOT_SENT_CODES.has(code ?? ''));
    } finally {
      signal.clear();
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.dispatcher.close(), this.guarded?.close()]);
  }
}
