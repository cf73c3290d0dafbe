// A failed SMTP exchange, as nodemailer reports it (code, SMTP reply code and text, the command in
// flight), reduced to what the engine needs to type it: never the credentials, never the protocol log.
import { PlugboardError } from '../../errors/plugboard-error.ts';

export interface SmtpErrorParts {
  /** nodemailer's code: EAUTH, ENOAUTH, ECONNECTION, ESOCKET, ETIMEDOUT, EDNS, ETLS, EENVELOPE, EMESSAGE, EPROTOCOL, ... */
  code: string;
  /** SMTP reply code (535, 550, 421, ...) when the server answered. */
  responseCode?: number;
  /** The server's reply text. */
  response?: string;
  /** The SMTP command in flight (CONN, AUTH PLAIN, RCPT TO, DATA, ...). */
  command?: string;
  /** The system error under an ESOCKET (ECONNREFUSED, ...). */
  originalCode?: string;
  /** ETIMEDOUT: which wait ended (CONNECT_TIMEOUT, GREETING_TIMEOUT, ...). */
  timeoutType?: string;
}

/** nodemailer's error for a message queued in (or sent to) a pool after it was closed. */
const POOL_CLOSED = 'Connection pool was closed';

export class SmtpError extends PlugboardError {
  constructor(message: string, readonly parts: SmtpErrorParts) {
    super('provider', message, { code: parts.code });
  }

  static from(err: unknown): SmtpError {
    if (err instanceof SmtpError) return err;
    const e = (err ?? {}) as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
    return new SmtpError(str(e['message']) ?? String(err), {
      code: str(e['code']) ?? 'EMESSAGE',
      responseCode: typeof e['responseCode'] === 'number' ? e['responseCode'] : undefined,
      response: str(e['response']),
      command: str(e['command']),
      originalCode: str(e['originalCode']) ?? str(e['errno']),
      timeoutType: str(e['timeoutType']),
    });
  }

  /** TLS failed: the handshake, the certificate (self-signed, expired, wrong name) or STARTTLS itself. */
  get tls(): boolean {
    const { code, originalCode } = this.parts;
    return code === 'ETLS' || code === 'EREQUIRETLS' || /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(originalCode ?? '') || /certificate/i.test(this.message);
  }

  /** Nothing reached the server as a message yet: safe to try again (connection refused, DNS, connect timeout), unless TLS failed. */
  get notSent(): boolean {
    const { code, command, timeoutType } = this.parts;
    // nodemailer fails the messages still queued in a pool that was closed: none was handed to a connection.
    if (this.message === POOL_CLOSED) return true;
    if (this.tls) return false;
    if (code === 'EDNS') return true;
    if (code === 'ETIMEDOUT') return timeoutType === 'CONNECT_TIMEOUT' || timeoutType === 'GREETING_TIMEOUT';
    return (code === 'ESOCKET' || code === 'ECONNECTION') && (command === 'CONN' || this.parts.originalCode === 'ECONNREFUSED');
  }
}
