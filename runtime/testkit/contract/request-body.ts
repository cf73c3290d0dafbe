// Parsing a captured request body by its content type, as the provider would, before validation.
import qs from 'qs';
import type { AnyObj } from './spec-document.ts';
import { decodeMultipartRelated } from '../../engine/multipart-related.ts';

export function mediaType(contentType: string | undefined): string {
  return String(contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

export function mediaMatches(declared: string, actual: string): boolean {
  const d = declared.toLowerCase();
  if (d === actual || d === '*/*') return true;
  if (d.endsWith('/*')) return actual.startsWith(d.slice(0, -1));
  return false;
}

export function parseQuery(raw: string): Record<string, unknown> {
  return qs.parse(raw, { depth: 20, arrayLimit: 1000 }) as Record<string, unknown>;
}

/** JSON, form (qs: nested `metadata[k]=v`, repeated keys as arrays), multipart or multipart/related (its parts, as the manifest gives them); other types stay text. */
export async function parseBody(raw: Buffer, contentType: string | undefined): Promise<{ body?: unknown; error?: string }> {
  if (raw.length === 0) return {};
  const type = mediaType(contentType);
  const text = raw.toString('utf8');
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      return { body: JSON.parse(text) };
    } catch (err) {
      return { body: text, error: `body is not valid JSON: ${(err as Error).message}` };
    }
  }
  if (type === 'application/x-www-form-urlencoded') {
    return { body: qs.parse(text, { depth: 20, arrayLimit: 1000, parameterLimit: 10_000, allowDots: false }) };
  }
  if (type === 'multipart/form-data') {
    try {
      const fd = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType! } }).formData();
      const out: Record<string, unknown> = {};
      for (const [k, v] of fd.entries()) {
        const value = typeof v === 'string' ? v : `<file ${(v as File).name}>`;
        const prev = out[k];
        out[k] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
      }
      return { body: out };
    } catch (err) {
      return { body: text, error: `multipart body cannot be parsed: ${(err as Error).message}` };
    }
  }
  if (type === 'multipart/related') {
    const parts = decodeMultipartRelated(raw, contentType!);
    return parts ? { body: parts } : { body: text, error: 'multipart/related body cannot be parsed (boundary, part headers or a JSON part)' };
  }
  return { body: text };
}

/**
 * OAS form encoding: with the default style (form, explode) an array property is sent as repeated
 * keys, so one `MediaUrl=x` is a one-item array. With style deepObject (Stripe) an array must be sent
 * as `key[0]=x` / `key[]=x` (qs already makes those arrays), and a bare `key=x` stays a scalar.
 */
export function formArrays(body: unknown, media: AnyObj | undefined): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body) || !media?.schema) return body;
  const props = (media.schema.properties ?? {}) as AnyObj;
  const out = { ...(body as AnyObj) };
  for (const [k, v] of Object.entries(out)) {
    const schema = props[k] as AnyObj | undefined;
    const style = media.encoding?.[k]?.style ?? 'form';
    const isArray = schema && (schema.type === 'array' || (Array.isArray(schema.type) && schema.type.includes('array')));
    if (isArray && !Array.isArray(v) && typeof v !== 'object' && style === 'form') out[k] = [v];
  }
  return out;
}
