// body_format: multipart_related (RFC 2387), e.g. Google's multipart upload: JSON metadata, then the
// media. The body expression gives the parts in order: [{ content_type, body }] where body is an
// object (sent as JSON), a string (sent as UTF-8 text), or { content_type, base64 } whose bytes are
// sent decoded. The boundary is random and checked against the parts.
import { randomBytes } from 'node:crypto';
import { PlugboardError } from '../errors/plugboard-error.ts';

interface Part {
  content_type: string;
  body?: unknown;
  base64?: string;
}

function partsOf(value: unknown): Part[] {
  const parts = Array.isArray(value) ? value : [value];
  return parts.map((p, i) => {
    if (!p || typeof p !== 'object' || typeof (p as Part).content_type !== 'string' || !/^[\w.+-]+\/[\w.+-]+/.test((p as Part).content_type)) {
      throw new PlugboardError('internal', `multipart_related body: part ${i} must be an object with a content_type (type/subtype)`);
    }
    const part = p as Part;
    if (part.base64 !== undefined && typeof part.base64 !== 'string') throw new PlugboardError('internal', `multipart_related body: part ${i} base64 must be a string`);
    return part;
  });
}

function bytesOf(part: Part): Buffer {
  if (part.base64 !== undefined) return Buffer.from(part.base64, 'base64');
  if (typeof part.body === 'string') return Buffer.from(part.body, 'utf8');
  return Buffer.from(JSON.stringify(part.body ?? {}), 'utf8');
}

export function encodeMultipartRelated(value: unknown): { body: Buffer; contentType: string } {
  const parts = partsOf(value).map((p) => ({ type: p.content_type, bytes: bytesOf(p) }));
  let boundary = `plugboard_${randomBytes(16).toString('hex')}`;
  while (parts.some((p) => p.bytes.includes(`--${boundary}`))) boundary = `plugboard_${randomBytes(16).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: ${p.type.replace(/[\r\n]/g, '')}\r\n\r\n`, 'utf8'), p.bytes, Buffer.from('\r\n', 'utf8'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`, 'utf8'));
  return { body: Buffer.concat(chunks), contentType: `multipart/related; boundary=${boundary}` };
}

/**
 * The parts of a multipart/related body in the form the manifest gives them (for example checks and
 * the contract server): JSON parts as `body` objects, other text/* parts as `body` strings, anything
 * else as `base64`. Undefined when the body is not well-formed multipart with that boundary.
 */
export function decodeMultipartRelated(raw: Buffer, contentType: string): Part[] | undefined {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!boundary) return undefined;
  const text = raw.toString('latin1'); // byte-preserving
  const delimiter = `--${boundary}`;
  const end = text.indexOf(`\r\n${delimiter}--`);
  if (!text.startsWith(`${delimiter}\r\n`) || end < 0) return undefined;
  const out: Part[] = [];
  for (const chunk of text.slice(delimiter.length + 2, end).split(`\r\n${delimiter}\r\n`)) {
    const split = chunk.indexOf('\r\n\r\n');
    if (split < 0) return undefined;
    const headers = chunk.slice(0, split).split('\r\n');
    const type = headers.find((h) => /^content-type:/i.test(h))?.replace(/^content-type:\s*/i, '').trim();
    if (!type) return undefined;
    const bytes = Buffer.from(chunk.slice(split + 4), 'latin1');
    const media = type.split(';')[0]!.trim().toLowerCase();
    if (media === 'application/json' || media.endsWith('+json')) {
      try {
        out.push({ content_type: type, body: JSON.parse(bytes.toString('utf8')) });
      } catch {
        return undefined;
      }
    } else if (media.startsWith('text/')) out.push({ content_type: type, body: bytes.toString('utf8') });
    else out.push({ content_type: type, base64: bytes.toString('base64') });
  }
  return out;
}
