// The SMTP server of an offline example: records the message the engine hands to the SMTP transport
// and answers with the example's recorded reply. A 2xx/3xx status is a delivery ({messageId,
// accepted, rejected, response} from the body, defaults: a fixed id and every recipient accepted);
// any other status is the error nodemailer would raise for that reply (body {code, response, command}).
import type { ExampleSpec } from '../manifest/types.ts';
import { SmtpError, type SmtpMessage, type SmtpSent, type SmtpTransport } from '../http/smtp/transport.ts';

const AUTH_REPLIES = [530, 534, 535];

/** The message as the example states it: the smtp.message fields (snake_case), without empty ones. */
export function exampleView(m: SmtpMessage): Record<string, unknown> {
  const out: Record<string, unknown> = {
    from: m.from,
    to: m.to,
    cc: m.cc,
    bcc: m.bcc,
    reply_to: m.replyTo && m.replyTo.length === 1 ? m.replyTo[0] : m.replyTo,
    subject: m.subject,
    text: m.text,
    html: m.html,
    headers: m.headers,
    attachments: m.attachments?.map((a) => ({ filename: a.filename, content: a.content, encoding: a.encoding, ...(a.contentType ? { content_type: a.contentType } : {}) })),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

export class RecordedSmtpTransport implements SmtpTransport {
  sent: SmtpMessage[] = [];
  verified = 0;
  constructor(private readonly response: ExampleSpec['response']) {}

  private answer(message?: SmtpMessage): SmtpSent {
    const { status } = this.response;
    const body = (this.response.body ?? {}) as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    if (status >= 400) {
      const code = str(body['code']) ?? (AUTH_REPLIES.includes(status) ? 'EAUTH' : 'EMESSAGE');
      const response = str(body['response']) ?? `${status} error`;
      throw new SmtpError(`${code === 'EAUTH' ? 'Invalid login' : 'Message failed'}: ${response}`, { code, responseCode: status, response, command: str(body['command']) });
    }
    const everyone = message ? [...message.to, ...(message.cc ?? []), ...(message.bcc ?? [])] : [];
    const list = (v: unknown, d: string[]) => (Array.isArray(v) ? v.map(String) : d);
    return { messageId: str(body['messageId']) ?? '<example@plugboard.invalid>', accepted: list(body['accepted'], everyone), rejected: list(body['rejected'], []), response: str(body['response']) ?? `${status} OK` };
  }

  async send(_key: string, _settings: unknown, message: SmtpMessage): Promise<SmtpSent> {
    this.sent.push(message);
    return this.answer(message);
  }

  async verify(): Promise<void> {
    this.verified++;
    this.answer();
  }

  async close(): Promise<void> {}
}
