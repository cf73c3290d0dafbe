// Mail helpers registered as JSONata functions for every manifest expression. Some mail APIs take a
// whole RFC 5322 message rather than JSON fields (Gmail's users.messages.send wants it base64url
// encoded in `raw`); JSONata has neither a MIME builder nor base64url:
//
//   $mimeMessage({ "from": "ana@example.com", "to": ["bo@example.com"], "subject": "Hi", "text": "Hello" })
//     -> "Content-Type: text/plain; charset=utf-8\r\nFrom: ana@example.com\r\n..."
//   $base64url("hello?") -> "aGVsbG8_"   (RFC 4648 §5, no padding)
//
// The message is built by nodemailer's MailComposer (RFC 5322/2045/2047: encoded words for non-ASCII
// headers, quoted-printable or base64 bodies, CRLF line ends, multipart/alternative for text + html).
// Header values never start new header lines: line breaks in a subject or name are folded into spaces
// and addresses are parsed as address lists.
import crypto from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import addressparser from 'nodemailer/lib/addressparser';

export interface MimeMessageInput {
  /** "ana@example.com", "Ana <ana@example.com>", or { name, address }. Optional: Gmail fills in the mailbox's own address. */
  from?: string | { name?: string; address: string };
  /** Display name for a bare `from` address. */
  from_name?: string;
  to?: string | string[];
  cc?: string | string[];
  bcc?: string | string[];
  reply_to?: string | string[];
  subject?: string;
  text?: string;
  html?: string;
  /** RFC 5322 Date (ISO 8601 or a Date-parsable string); default: now. */
  date?: string;
  /** Message-ID including the angle brackets; default: a random one on the sender's domain. */
  message_id?: string;
  /** Threading: the Message-ID this replies to. */
  in_reply_to?: string;
  references?: string | string[];
}

const KEYS = new Set(['from', 'from_name', 'to', 'cc', 'bcc', 'reply_to', 'subject', 'text', 'html', 'date', 'message_id', 'in_reply_to', 'references']);

function fail(message: string): never {
  throw new Error(`$mimeMessage: ${message}`);
}

function list(name: string, value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const items = Array.isArray(value) ? value : [value];
  for (const v of items) if (typeof v !== 'string' || v.trim() === '') fail(`"${name}" must be an address or a list of addresses, got ${JSON.stringify(v)}`);
  return items.length ? (items as string[]) : undefined;
}

function text(name: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') fail(`"${name}" must be a string, got ${JSON.stringify(value)}`);
  return value;
}

/** A header value on one line: CR, LF and other control characters become spaces. */
function oneLine(value: string): string {
  // eslint-disable-next-line no-control-regex -- the point is to remove control characters
  return value.replace(/[\u0000-\u001f\u007f]+/g, ' ');
}

interface Mailbox {
  name: string;
  address: string;
}

/**
 * One mailbox ("a@b.c" or "Name <a@b.c>"), parsed: a value holding several addresses, a group or
 * a line break ("a@b.c\r\nBcc: x@y.z") is refused, so no field can add recipients or headers.
 */
function mailbox(name: string, value: string): Mailbox {
  // eslint-disable-next-line no-control-regex -- control characters have no place in an address
  if (/[\u0000-\u001f\u007f]/.test(value)) fail(`"${name}" must be one address on one line, got ${JSON.stringify(value)}`);
  const parsed = addressparser(value);
  const one = parsed.length === 1 ? parsed[0]! : undefined;
  if (!one || one.group || !/^[^@\s]+@[^@\s]+$/.test(one.address ?? '')) fail(`"${name}" must be one address like "ana@example.com" or "Ana <ana@example.com>", got ${JSON.stringify(value)}`);
  return { name: one.name, address: one.address! };
}

function addresses(name: string, value: unknown): Mailbox[] | undefined {
  return list(name, value)?.map((v) => mailbox(name, v));
}

function sender(input: MimeMessageInput): Mailbox | undefined {
  const from = input.from;
  const name = text('from_name', input.from_name);
  if (from === undefined || from === null) return undefined;
  if (typeof from === 'object' && !Array.isArray(from)) {
    if (typeof from.address !== 'string') fail('"from.address" must be an address');
    return { name: oneLine(text('from.name', from.name) ?? name ?? ''), address: mailbox('from', from.address).address };
  }
  if (typeof from !== 'string') fail(`"from" must be an address, got ${JSON.stringify(from)}`);
  const parsed = mailbox('from', from);
  return name !== undefined ? { name: oneLine(name), address: parsed.address } : parsed;
}

function domainOf(from: Mailbox | undefined): string {
  const domain = from?.address.split('@').pop();
  return domain && /^[A-Za-z0-9.-]+$/.test(domain) ? domain : 'localhost';
}

/** An RFC 5322 message (CRLF line ends) from plain fields. Resolves to the message text (7-bit). */
export async function mimeMessage(input: unknown): Promise<string | undefined> {
  if (input === undefined) return undefined;
  if (!input || typeof input !== 'object' || Array.isArray(input)) fail(`the argument must be an object of message fields, got ${JSON.stringify(input)}`);
  const fields = input as MimeMessageInput;
  for (const k of Object.keys(fields)) if (!KEYS.has(k)) fail(`unknown field "${k}" (known: ${[...KEYS].join(', ')})`);
  const to = addresses('to', fields.to);
  const cc = addresses('cc', fields.cc);
  const bcc = addresses('bcc', fields.bcc);
  if (!to && !cc && !bcc) fail('at least one recipient (to, cc or bcc) is required');
  const body = { text: text('text', fields.text), html: text('html', fields.html) };
  const from = sender(fields);
  const date = text('date', fields.date);
  if (date !== undefined && Number.isNaN(Date.parse(date))) fail(`"date" is not a date: ${JSON.stringify(date)}`);
  const messageId = text('message_id', fields.message_id);
  const subject = text('subject', fields.subject);
  const composer = new MailComposer({
    ...(from ? { from } : {}),
    to, cc, bcc,
    replyTo: addresses('reply_to', fields.reply_to),
    subject: subject === undefined ? undefined : oneLine(subject),
    ...(body.text !== undefined ? { text: body.text } : {}),
    ...(body.html !== undefined ? { html: body.html } : {}),
    ...(body.text === undefined && body.html === undefined ? { text: '' } : {}),
    date: date === undefined ? new Date() : new Date(date),
    messageId: oneLine(messageId ?? `<${crypto.randomUUID()}@${domainOf(from)}>`),
    inReplyTo: fields.in_reply_to === undefined ? undefined : oneLine(text('in_reply_to', fields.in_reply_to)!),
    references: list('references', fields.references)?.map(oneLine),
    newline: '\r\n',
    // The caller's own data only: never read a file or URL named in a field.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const node = composer.compile();
  // A Bcc header is how APIs that take a whole message (Gmail) learn the blind recipients; they remove it before delivery.
  node.keepBcc = true;
  return (await node.build()).toString('utf8');
}

/** RFC 4648 §5 base64url of a string's UTF-8 bytes, without padding. */
export function base64url(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new Error(`$base64url: the argument must be a string, got ${JSON.stringify(value)}`);
  return Buffer.from(value, 'utf8').toString('base64url');
}
