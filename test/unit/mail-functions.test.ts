// $mimeMessage and $base64url, registered by the runtime for every manifest expression (Gmail's
// send takes a whole RFC 5322 message, base64url-encoded). Every produced message is parsed back with
// mailparser, as a receiving mail system would, and its headers and bodies checked.
import { describe, it, expect } from 'vitest';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { mimeMessage, base64url } from '../../runtime/lang/mail.ts';
import { compileExpression, KNOWN_FUNCTIONS } from '../../runtime/lang/expressions.ts';

const parse = async (input: Record<string, unknown>): Promise<{ raw: string; mail: ParsedMail }> => {
  const raw = (await mimeMessage(input))!;
  return { raw, mail: await simpleParser(raw) };
};
const addrs = (a: AddressObject | AddressObject[] | undefined) => (Array.isArray(a) ? a : a ? [a] : []).flatMap((o) => o.value.map((v) => ({ name: v.name, address: v.address })));
/** The header block's field names, in order (unfolded). */
const headerNames = (raw: string) => raw.split('\r\n\r\n')[0]!.split('\r\n').filter((l) => !/^[ \t]/.test(l)).map((l) => l.slice(0, l.indexOf(':')).toLowerCase());

describe('$mimeMessage', () => {
  it('builds a text message: headers, body, CRLF line ends, 7-bit', async () => {
    const { raw, mail } = await parse({ from: 'ana@example.com', to: ['bo@example.com'], subject: 'Your invoice', text: 'Invoice attached.\nThanks.', date: '2026-03-04T05:06:07Z', message_id: '<inv-1@example.com>' });
    expect(addrs(mail.from)).toEqual([{ name: '', address: 'ana@example.com' }]);
    expect(addrs(mail.to)).toEqual([{ name: '', address: 'bo@example.com' }]);
    expect(mail.subject).toBe('Your invoice');
    expect(mail.text).toBe('Invoice attached.\nThanks.\n'); // a single-part body ends with a line break
    expect(mail.html).toBe(false);
    expect(mail.messageId).toBe('<inv-1@example.com>');
    expect(mail.date?.toISOString()).toBe('2026-03-04T05:06:07.000Z');
    expect(mail.headers.get('mime-version')).toBe('1.0');
    expect(mail.headers.get('content-type')).toMatchObject({ value: 'text/plain', params: { charset: 'utf-8' } });
    expect(raw).not.toMatch(/[^\r]\n/); // every line ends in CRLF
    expect(raw).toMatch(/^[\x00-\x7f]*$/); // 7-bit: fit for any transport
  });

  it('text and html make multipart/alternative, plain first; names, cc, bcc and reply-to are kept', async () => {
    const { raw, mail } = await parse({
      from: 'billing@example.com', from_name: 'Example Billing', to: ['ana@example.com', 'Bo Li <bo@example.com>'], cc: ['cc@example.com'], bcc: ['audit@example.com'],
      reply_to: 'support@example.com', subject: 'Your invoice', text: 'Invoice attached.', html: '<p>Invoice <b>attached</b>.</p>',
    });
    expect(mail.headers.get('content-type')).toMatchObject({ value: 'multipart/alternative' });
    const parts = raw.split(/\r\n--/).map((p) => /Content-Type: ([^;\r]+)/.exec(p)?.[1]).filter(Boolean);
    expect(parts).toEqual(['multipart/alternative', 'text/plain', 'text/html']); // RFC 2046 §5.1.4: preferred (richest) part last
    expect(mail.text).toBe('Invoice attached.');
    expect(mail.html).toBe('<p>Invoice <b>attached</b>.</p>');
    expect(addrs(mail.from)).toEqual([{ name: 'Example Billing', address: 'billing@example.com' }]);
    expect(addrs(mail.to)).toEqual([{ name: '', address: 'ana@example.com' }, { name: 'Bo Li', address: 'bo@example.com' }]);
    expect(addrs(mail.cc)).toEqual([{ name: '', address: 'cc@example.com' }]);
    // Kept in the message: an API that takes the whole message (Gmail) reads the blind recipients from it and removes the header.
    expect(addrs(mail.bcc)).toEqual([{ name: '', address: 'audit@example.com' }]);
    expect(addrs(mail.replyTo)).toEqual([{ name: '', address: 'support@example.com' }]);
    expect(mail.messageId).toMatch(/^<[0-9a-f-]{36}@example\.com>$/);
    expect(Math.abs(mail.date!.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('html only is a single text/html part', async () => {
    const { mail } = await parse({ to: 'ana@example.com', subject: 'Hi', html: '<p>Hello</p>' });
    expect(mail.headers.get('content-type')).toMatchObject({ value: 'text/html' });
    expect(mail.html).toBe('<p>Hello</p>\n');
    expect(mail.from).toBeUndefined(); // Gmail fills in the mailbox's own address
    expect(mail.messageId).toMatch(/@localhost>$/); // not the server's host name
  });

  it('non-ASCII subject, names and bodies travel as encoded words and quoted-printable, and come back intact', async () => {
    const subject = 'Grüße aus Köln – 請求書 🧾 '.repeat(4).trim(); // long: folded over several encoded words
    const { raw, mail } = await parse({ from: { name: 'Zoë Ça', address: 'zoe@example.com' }, to: ['Jürgen Groß <jg@example.de>'], subject, text: 'Ünïcödé text 📧', html: '<p>Ünïcödé</p>' });
    expect(raw).toMatch(/^Subject: =\?UTF-8\?[QB]\?/m);
    expect(raw).toMatch(/^[\x00-\x7f]*$/);
    for (const line of raw.split('\r\n')) expect(line.length).toBeLessThanOrEqual(998); // RFC 5322 §2.1.1
    expect(mail.subject).toBe(subject);
    expect(addrs(mail.from)).toEqual([{ name: 'Zoë Ça', address: 'zoe@example.com' }]);
    expect(addrs(mail.to)).toEqual([{ name: 'Jürgen Groß', address: 'jg@example.de' }]);
    expect(mail.text).toBe('Ünïcödé text 📧');
    expect(mail.html).toBe('<p>Ünïcödé</p>');
  });

  it('a CR/LF in the subject or a name cannot start a header', async () => {
    const { raw, mail } = await parse({ from: 'ana@example.com', from_name: 'Ana\r\nBcc: evil@attacker.test', to: ['bo@example.com'], subject: 'Hi\r\nBcc: evil@attacker.test\r\n\r\nforged body', text: 'real body' });
    expect(headerNames(raw).filter((h) => h === 'bcc')).toEqual([]);
    expect(mail.bcc).toBeUndefined();
    expect(addrs(mail.to)).toEqual([{ name: '', address: 'bo@example.com' }]);
    expect(mail.subject).toBe('Hi Bcc: evil@attacker.test forged body');
    expect(addrs(mail.from)).toEqual([{ name: 'Ana Bcc: evil@attacker.test', address: 'ana@example.com' }]);
    expect(mail.text).toBe('real body\n');
  });

  it('an address with a line break, a second address or a group is refused, never turned into recipients', async () => {
    await expect(mimeMessage({ to: ['bo@example.com\r\nBcc: evil@attacker.test'], subject: 'x', text: 'x' })).rejects.toThrow(/"to" must be one address on one line/);
    await expect(mimeMessage({ to: ['bo@example.com\nevil@attacker.test'], subject: 'x', text: 'x' })).rejects.toThrow(/"to" must be one address/);
    await expect(mimeMessage({ to: ['bo@example.com, evil@attacker.test'], subject: 'x', text: 'x' })).rejects.toThrow(/"to" must be one address like/);
    await expect(mimeMessage({ to: ['team: evil@attacker.test;'], subject: 'x', text: 'x' })).rejects.toThrow(/"to" must be one address like/);
    await expect(mimeMessage({ to: ['bo@example.com'], cc: ['not an address'], subject: 'x', text: 'x' })).rejects.toThrow(/"cc" must be one address like/);
    await expect(mimeMessage({ to: ['bo@example.com'], reply_to: 'a@b.test\r\nX-Evil: 1', subject: 'x', text: 'x' })).rejects.toThrow(/"reply_to" must be one address on one line/);
    await expect(mimeMessage({ from: 'a@b.test\r\nX-Evil: 1', to: ['bo@example.com'], subject: 'x', text: 'x' })).rejects.toThrow(/"from" must be one address on one line/);
  });

  it('refuses what it cannot build, naming the field', async () => {
    await expect(mimeMessage({ subject: 'x', text: 'x' })).rejects.toThrow(/at least one recipient/);
    await expect(mimeMessage({ to: ['a@b.test'], attachments: [{ path: '/etc/passwd' }] })).rejects.toThrow(/unknown field "attachments"/);
    await expect(mimeMessage({ to: ['a@b.test'], subject: 5 })).rejects.toThrow(/"subject" must be a string/);
    await expect(mimeMessage({ to: ['a@b.test'], date: 'soon' })).rejects.toThrow(/"date" is not a date/);
    await expect(mimeMessage('to: a@b.test')).rejects.toThrow(/must be an object/);
    expect(await mimeMessage(undefined)).toBeUndefined();
  });

  it('a body line that looks like a boundary or a header stays body text', async () => {
    const text = 'From: evil@attacker.test\r\n----_NmP-0000-Part_1--\r\n.\r\nend';
    const { mail } = await parse({ to: ['a@b.test'], subject: 'x', text, html: '<p>x</p>' });
    expect(mail.text).toBe(text.replace(/\r\n/g, '\n'));
    expect(mail.html).toBe('<p>x</p>');
  });
});

describe('$base64url', () => {
  it('is RFC 4648 §5 without padding, of the UTF-8 bytes', () => {
    expect(base64url('hello?')).toBe('aGVsbG8_');
    expect(base64url('>>>')).toBe('Pj4-');
    expect(base64url('ab')).toBe('YWI');
    expect(base64url('Grüße')).toBe(Buffer.from('Grüße').toString('base64url'));
    expect(Buffer.from(base64url('\u{1F9FE} ü')!, 'base64url').toString('utf8')).toBe('\u{1F9FE} ü');
    expect(base64url(undefined)).toBeUndefined();
    expect(() => base64url(5)).toThrow(/must be a string/);
  });
});

describe('in manifest expressions', () => {
  it('are known to validate and callable from JSONata; the fast evaluator leaves them to JSONata', async () => {
    expect(KNOWN_FUNCTIONS.has('mimeMessage') && KNOWN_FUNCTIONS.has('base64url')).toBe(true);
    const body = compileExpression('{ "raw": $base64url($mimeMessage({ "from": input.from, "to": input.to, "cc": input.cc, "subject": input.subject, "text": input.text })) }');
    expect(body.fast).toBe(false);
    expect(body.calls.map((c) => c.name).sort()).toEqual(['base64url', 'mimeMessage']);
    const out = (await body.evaluate({ input: { to: ['bo@example.com'], subject: 'Grüße', text: 'Hallo' } })) as { raw: string };
    expect(out.raw).toMatch(/^[A-Za-z0-9_-]+$/);
    const mail = await simpleParser(Buffer.from(out.raw, 'base64url'));
    expect(mail.subject).toBe('Grüße');
    expect(mail.text).toBe('Hallo\n');
    expect(mail.cc).toBeUndefined(); // an absent input field leaves the header out
  });

  it("a bad argument is the expression's error, naming the function", async () => {
    const body = compileExpression('$mimeMessage({ "to": input.to, "subject": "x", "text": "x" })');
    await expect(body.evaluate({ input: { to: ['a@b.test\r\nBcc: evil@attacker.test'] } })).rejects.toThrow(/\$mimeMessage: "to" must be one address on one line/);
  });
});
