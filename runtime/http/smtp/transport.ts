// Provider transport of smtp connectors: nodemailer's pooled SMTP transport, one pool per integration.
// A pool is found by the integration's key and kept while a fingerprint of its connection settings
// (host, port, security, user, password, ...) stays the same: changed credentials open a new pool and
// retire the old one, closed once the messages it holds are done (so nothing queued fails). The
// timeout is not part of it: each send is bounded by its own (verify and capabilities may differ).
// close() ends every pool (the platform calls it on shutdown). Failures come out as
// SmtpError (no credential value in them); the engine turns them into typed failures.
import crypto from 'node:crypto';
import nodemailer from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import type Mail from 'nodemailer/lib/mailer';
import type { SmtpSecurity } from '../../manifest/smtp.ts';
import { SmtpError } from './errors.ts';
import { publicSocket } from './public-socket.ts';
export { SmtpError } from './errors.ts';

export interface SmtpSettings {
  host: string;
  port: number;
  /** starttls (required), tls (implicit), none (never), or opportunistic (STARTTLS when offered: legacy `secure: false`). */
  security: SmtpSecurity | 'opportunistic';
  username?: string;
  password?: string;
  rejectUnauthorized: boolean;
  maxConnections: number;
  timeoutMs: number;
  /** A host the tenant named: connect only to public addresses (./public-socket.ts). */
  publicOnly?: boolean;
}

export interface SmtpAttachment {
  filename: string;
  content: string;
  encoding?: 'base64' | 'utf8';
  contentType?: string;
}

export interface SmtpMessage {
  from: { name: string; address: string };
  to: string[];
  cc?: string[];
  bcc?: string[];
  replyTo?: string[];
  subject?: string;
  text?: string;
  html?: string;
  headers?: Record<string, string>;
  attachments?: SmtpAttachment[];
}

/** The server's answer: what the response expression of an smtp capability reads. */
export interface SmtpSent {
  messageId: string;
  accepted: string[];
  rejected: string[];
  response: string;
}

export interface SmtpTransport {
  /** `key` names the integration (its pool); `settings` are checked against the pool's fingerprint. */
  send(key: string, settings: SmtpSettings, message: SmtpMessage): Promise<SmtpSent>;
  /** Connects, upgrades to TLS as configured and logs in, sending nothing. */
  verify(key: string, settings: SmtpSettings): Promise<void>;
  close(): Promise<void>;
}

/** Pools kept open at most; the least recently used one is closed beyond that. */
const MAX_POOLS = 200;

function addresses(list: Array<string | { address?: string } | undefined> | undefined): string[] {
  return (list ?? []).map((a) => (typeof a === 'string' ? a : a?.address ?? '')).filter(Boolean);
}

/** What a connection is made with: a call's timeout or the connector's max_connections open no new pool. */
export function fingerprint(s: SmtpSettings): string {
  return crypto.createHash('sha256').update(JSON.stringify([s.host, s.port, s.security, s.username ?? '', s.password ?? '', s.rejectUnauthorized])).digest('base64url');
}

interface Pool {
  fingerprint: string;
  mailer: Mail;
  /** Sends started through this pool and not finished yet. */
  pending: number;
  /** Replaced or evicted: closed as soon as `pending` is 0. */
  retired: boolean;
}

/** A call's own deadline ran out (a send may have reached the server: not retried). */
function callTimeout(timeoutMs: number): SmtpError {
  return new SmtpError(`no answer within ${timeoutMs} ms`, { code: 'ETIMEDOUT', timeoutType: 'CALL_TIMEOUT' });
}

function poolOptions(s: SmtpSettings): SMTPPool.Options {
  return {
    pool: true,
    host: s.host,
    port: s.port,
    secure: s.security === 'tls',
    requireTLS: s.security === 'starttls',
    ignoreTLS: s.security === 'none',
    ...(s.username ? { auth: { user: s.username, pass: s.password ?? '' } } : {}),
    tls: { rejectUnauthorized: s.rejectUnauthorized, servername: s.host },
    ...(s.publicOnly ? { getSocket: publicSocket() as never } : {}),
    maxConnections: s.maxConnections,
    connectionTimeout: s.timeoutMs,
    greetingTimeout: s.timeoutMs,
    socketTimeout: s.timeoutMs,
    dnsTimeout: s.timeoutMs,
    // Never a file or URL named in a message field; no protocol log (it would carry the AUTH exchange).
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
    debug: false,
  };
}

export class NodemailerSmtpTransport implements SmtpTransport {
  private readonly pools = new Map<string, Pool>();
  /** Retired pools still finishing their sends (closed on shutdown too). */
  private readonly retiring = new Set<Pool>();

  private pool(key: string, settings: SmtpSettings): Pool {
    const fp = fingerprint(settings);
    const found = this.pools.get(key);
    this.pools.delete(key);
    if (found && found.fingerprint === fp) {
      this.pools.set(key, found); // most recently used last
      return found;
    }
    if (found) this.retire(found);
    const entry: Pool = { fingerprint: fp, mailer: nodemailer.createTransport(poolOptions(settings)), pending: 0, retired: false };
    this.pools.set(key, entry);
    if (this.pools.size > MAX_POOLS) {
      const [oldest, evicted] = this.pools.entries().next().value!;
      this.pools.delete(oldest);
      this.retire(evicted);
    }
    return entry;
  }

  /** Closes a pool no longer looked up once its sends are done (nodemailer fails whatever is still queued on close). */
  private retire(entry: Pool): void {
    entry.retired = true;
    if (entry.pending > 0) this.retiring.add(entry);
    else entry.mailer.close();
  }

  private finished(entry: Pool): void {
    entry.pending--;
    if (entry.retired && entry.pending === 0) {
      this.retiring.delete(entry);
      entry.mailer.close();
    }
  }

  /** Open pools (tests check reuse and replacement). */
  get size(): number {
    return this.pools.size;
  }

  async send(key: string, settings: SmtpSettings, message: SmtpMessage): Promise<SmtpSent> {
    const entry = this.pool(key, settings);
    entry.pending++;
    const signal = AbortSignal.timeout(settings.timeoutMs);
    try {
      const info = await entry.mailer.sendMail({
        from: message.from,
        to: message.to,
        cc: message.cc,
        bcc: message.bcc,
        replyTo: message.replyTo,
        subject: message.subject,
        text: message.text,
        html: message.html,
        headers: message.headers,
        attachments: message.attachments,
        disableFileAccess: true,
        disableUrlAccess: true,
        // This send's deadline (the pool's socket timeouts are those of the call that opened it).
        signal,
      });
      return { messageId: String(info.messageId ?? ''), accepted: addresses(info.accepted as never), rejected: addresses(info.rejected as never), response: String(info.response ?? '') };
    } catch (err) {
      throw signal.aborted && (err as { code?: string })?.code === 'EABORT' ? callTimeout(settings.timeoutMs) : SmtpError.from(err);
    } finally {
      this.finished(entry);
    }
  }

  async verify(key: string, settings: SmtpSettings): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      // verify opens a connection of its own: bounded by this call's timeout, not the pool's.
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(callTimeout(settings.timeoutMs)), settings.timeoutMs);
      });
      await Promise.race([this.pool(key, settings).mailer.verify(), deadline]);
    } catch (err) {
      throw SmtpError.from(err);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    for (const { mailer } of [...this.pools.values(), ...this.retiring]) mailer.close();
    this.pools.clear();
    this.retiring.clear();
  }
}
