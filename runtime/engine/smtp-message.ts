// The message an smtp capability's smtp.message expression gives, checked and shaped for the SMTP
// transport. Fields (snake_case, as $mimeMessage takes them):
//   { "from": "a@b.c" | "Name <a@b.c>" | {"name", "address"}, "to", "cc", "bcc", "reply_to": address or list,
//     "subject", "text", "html", "headers": {"X-Tag": "..."},
//     "attachments": [{"filename", "content", "encoding": "base64"|"utf8", "content_type"}] }
// No field can start a header line (control characters are refused) and no attachment names a file
// or URL: content is given inline.
import { EngineError, failure } from '../http/errors.ts';
import type { SmtpAttachment, SmtpMessage } from '../http/smtp/transport.ts';

const KEYS = new Set(['from', 'to', 'cc', 'bcc', 'reply_to', 'subject', 'text', 'html', 'headers', 'attachments']);
const ATTACHMENT_KEYS = new Set(['filename', 'content', 'encoding', 'content_type']);
// eslint-disable-next-line no-control-regex -- the point is to find control characters
const CONTROL = /[\u0000-\u001f\u007f]/;
const ADDRESS = /^[^@\s<>"]+@[^@\s<>"]+$/;
/** Headers the message fields own: set them through the fields. */
const OWN_HEADERS = new Set(['from', 'to', 'cc', 'bcc', 'reply-to', 'subject', 'content-type', 'content-transfer-encoding', 'mime-version']);

function fail(message: string): never {
  throw new EngineError(failure('invalid_input', `the smtp.message expression gave an invalid message: ${message}`, { retryable: false }));
}

function address(field: string, v: unknown): string {
  if (typeof v !== 'string' || CONTROL.test(v)) fail(`"${field}" must be an address on one line, got ${JSON.stringify(v)}`);
  const m = /^\s*(?:"?([^"<]*)"?\s*)?<([^<>]+)>\s*$/.exec(v);
  const bare = (m ? m[2] : v).trim();
  if (!ADDRESS.test(bare)) fail(`"${field}" must be one address like "ana@example.com" or "Ana <ana@example.com>", got ${JSON.stringify(v)}`);
  return v.trim();
}

function list(field: string, v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  const items = (Array.isArray(v) ? v : [v]).map((x) => address(field, x));
  return items.length ? items : undefined;
}

function text(field: string, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(`"${field}" must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function sender(v: unknown): SmtpMessage['from'] {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const name = text('from.name', o['name']) ?? '';
    if (CONTROL.test(name)) fail('"from.name" must be on one line');
    return { name, address: address('from.address', o['address']) };
  }
  if (v === undefined || v === null || v === '') fail('"from" is required (the integration\'s sender address, e.g. credentials.from_address)');
  const a = address('from', v);
  const m = /^\s*(?:"?([^"<]*)"?\s*)?<([^<>]+)>\s*$/.exec(a);
  return m ? { name: (m[1] ?? '').trim(), address: m[2]!.trim() } : { name: '', address: a };
}

function headers(v: unknown): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) fail('"headers" must be an object of header names and values');
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(k)) fail(`header name ${JSON.stringify(k)} is not a valid name`);
    if (OWN_HEADERS.has(k.toLowerCase())) fail(`header "${k}" is set through the message fields, not "headers"`);
    if (typeof val !== 'string' || CONTROL.test(val)) fail(`header "${k}" must be a string on one line`);
    out[k] = val;
  }
  return out;
}

function attachments(v: unknown): SmtpAttachment[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) fail('"attachments" must be a list');
  return v.map((a, i) => {
    if (!a || typeof a !== 'object' || Array.isArray(a)) fail(`attachments[${i}] must be an object`);
    const o = a as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!ATTACHMENT_KEYS.has(k)) fail(`attachments[${i}] has unknown field "${k}" (known: ${[...ATTACHMENT_KEYS].join(', ')})`);
    const filename = text(`attachments[${i}].filename`, o['filename']);
    if (!filename || CONTROL.test(filename)) fail(`attachments[${i}].filename must be a name on one line`);
    const content = text(`attachments[${i}].content`, o['content']);
    if (content === undefined) fail(`attachments[${i}].content is required (inline content: text, or base64 with "encoding": "base64")`);
    const encoding = o['encoding'] ?? 'utf8';
    if (encoding !== 'utf8' && encoding !== 'base64') fail(`attachments[${i}].encoding must be "utf8" or "base64"`);
    const contentType = text(`attachments[${i}].content_type`, o['content_type']);
    if (contentType !== undefined && !/^[\w.+-]+\/[\w.+-]+(;.*)?$/.test(contentType)) fail(`attachments[${i}].content_type must be a media type like "application/pdf"`);
    return { filename, content, encoding, ...(contentType ? { contentType } : {}) };
  });
}

export function smtpMessage(value: unknown): SmtpMessage {
  if (!value || typeof value !== 'object' || Array.isArray(value)) fail(`expected an object of message fields, got ${JSON.stringify(value)}`);
  const v = value as Record<string, unknown>;
  for (const k of Object.keys(v)) if (!KEYS.has(k)) fail(`unknown field "${k}" (known: ${[...KEYS].join(', ')})`);
  const to = list('to', v['to']) ?? [];
  const cc = list('cc', v['cc']);
  const bcc = list('bcc', v['bcc']);
  if (!to.length && !cc && !bcc) fail('at least one recipient (to, cc or bcc) is required');
  const subject = text('subject', v['subject']);
  const body = { text: text('text', v['text']), html: text('html', v['html']) };
  const out: SmtpMessage = { from: sender(v['from']), to };
  if (cc) out.cc = cc;
  if (bcc) out.bcc = bcc;
  const replyTo = list('reply_to', v['reply_to']);
  if (replyTo) out.replyTo = replyTo;
  // A subject is one header line: line breaks become spaces rather than new headers.
  if (subject !== undefined) out.subject = subject.replace(/[\r\n]+/g, ' ');
  if (body.text !== undefined) out.text = body.text;
  if (body.html !== undefined) out.html = body.html;
  const h = headers(v['headers']);
  if (h) out.headers = h;
  const a = attachments(v['attachments']);
  if (a) out.attachments = a;
  return out;
}
