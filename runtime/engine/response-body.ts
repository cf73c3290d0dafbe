// A provider's answer as the data mappings read: JSON parsed; XML (any `xml` or `+xml` content type,
// e.g. a WebDAV/CalDAV 207 multistatus) parsed into plain objects by fast-xml-parser; anything else as text.
import { XMLParser } from 'fast-xml-parser';
import type { HttpResponse } from '../http/transport.ts';

/**
 * XML as JSON for JSONata: namespace prefixes removed (`d:multistatus` and `D:multistatus` are both
 * `multistatus`), attributes as `@name`, text kept as strings (never guessed into numbers), an element
 * with attributes and text gives its text as `#text`, an empty element is "". A repeated element is an
 * array, a single one an object: JSONata paths read both alike (`multistatus.response.href`).
 * Entity expansion stays within fast-xml-parser's limits; no external entity is ever fetched.
 */
const xml = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // Character references (&#13; a CalDAV server writes for the CR of iCalendar's CRLF) are decoded too.
  htmlEntities: true,
});

const XML_TYPE = /^(?:application|text)\/(?:[\w.+-]+\+)?xml\b/i;

export function parseBody(res: HttpResponse): unknown {
  if (res.body.length === 0) return {};
  const text = res.body.toString('utf8');
  const type = res.headers['content-type'] ?? '';
  if (/json/i.test(type) || /^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  if (XML_TYPE.test(type) || (!type && /^\s*<\?xml/.test(text))) {
    try {
      return xml.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

const MESSAGE_KEY = /^(?:message|faultstring|error[-_]?message|error[-_]?description|description|detail|reason)$/i;

/** The text of an element as fast-xml-parser gives it: a string, or `#text` beside attributes. */
function elementText(v: unknown): string | undefined {
  const t = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)['#text'] : v;
  return typeof t === 'string' && t.trim() ? t.trim() : undefined;
}

/**
 * A message from an XML error answer the common shapes did not match: the shallowest element named
 * message/Message (`<error><message>`, S3's and Azure's `<Error><Message>`, Twilio's
 * `<RestException><Message>`, SOAP's `<faultstring>`, sabre/dav's `<s:message>`), else a WebDAV
 * `<DAV:error>`'s precondition names (RFC 4918 §16, `valid-calendar-data`), else the answer's text
 * content (entities decoded, so credentials in it are redacted like any other text). At most 500
 * characters; undefined when the answer was not XML.
 */
export function xmlErrorMessage(res: HttpResponse, body: unknown): string | undefined {
  const type = res.headers['content-type'] ?? '';
  const head = res.body.subarray(0, 64).toString('utf8');
  if (!body || typeof body !== 'object' || /^\s*[[{]/.test(head) || !(XML_TYPE.test(type) || (!type && /^\s*<\?xml/.test(head)))) return undefined;
  let level: unknown[] = [body];
  for (let depth = 0; depth < 8 && level.length > 0; depth++) {
    const next: unknown[] = [];
    for (const node of level) {
      if (!node || typeof node !== 'object') continue;
      for (const [k, v] of Object.entries(node)) {
        if (k.startsWith('@') || k === '#text') continue;
        const text = MESSAGE_KEY.test(k) ? elementText(Array.isArray(v) ? v[0] : v) : undefined;
        if (text) return text.slice(0, 500);
        next.push(...(Array.isArray(v) ? v : [v]));
      }
    }
    level = next;
  }
  const root = Object.entries(body);
  if (root.length === 1 && /^error$/i.test(root[0]![0]) && root[0]![1] && typeof root[0]![1] === 'object') {
    const conditions = Object.keys(root[0]![1] as object).filter((k) => !k.startsWith('@') && k !== '#text');
    if (conditions.length > 0) return conditions.join(', ').slice(0, 500);
  }
  const texts: string[] = [];
  const collect = (v: unknown, depth: number): void => {
    if (texts.join(' ').length > 500 || depth > 32) return;
    if (typeof v === 'string') {
      if (v.trim()) texts.push(v.trim());
    } else if (v && typeof v === 'object') {
      for (const [k, c] of Object.entries(v)) if (!k.startsWith('@')) collect(c, depth + 1);
    }
  };
  collect(body, 0);
  return texts.join(' ').replace(/\s+/g, ' ').slice(0, 500) || undefined;
}
