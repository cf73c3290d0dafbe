// The manifest test kit: run each capability example offline. The example's recorded provider
// response is served by an in-memory transport; the request the engine built and the output (or
// typed error) it produced are compared with what the example expects.
import { isDeepStrictEqual } from 'node:util';
import { modelErrors } from '../manifest/models.ts';
import type { Connector } from '../manifest/connector.ts';
import type { ExampleSpec } from '../manifest/types.ts';
import { Engine, type RunOptions } from '../engine/engine.ts';
import { keyOf } from '../engine/stream.ts';
import { decodeMultipartRelated } from '../engine/multipart-related.ts';
import { tokenUrl } from '../auth/strategies.ts';
import { StaticTokenSource } from '../auth/token-source.ts';
import type { HttpRequest, HttpResponse, HttpTransport } from '../http/transport.ts';
import { diffLines } from './diff.ts';
import { RecordedSmtpTransport, exampleView } from './recorded-smtp.ts';

const OFFLINE_BASE = 'http://provider.invalid';

/** What the token endpoint answers when an example of a client-credentials connector gives no token_response. */
const DEFAULT_TOKEN_RESPONSE: RecordedResponse = { status: 200, body: { access_token: 'example-access-token', token_type: 'Bearer', expires_in: 3600 } };

type RecordedResponse = ExampleSpec['response'];

function toHttpResponse(r: RecordedResponse): HttpResponse {
  const body = r.body;
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = v;
  if (typeof body === 'object' && body !== null && !headers['content-type']) headers['content-type'] = 'application/json';
  return { status: r.status, headers, body: Buffer.from(text) };
}

/** Serves the example's token response to the token request and its recorded response to every other request. */
class RecordedTransport implements HttpTransport {
  /** Requests other than the token request, in order: what the example's `request` describes. */
  sent: HttpRequest[] = [];
  constructor(
    private readonly response: RecordedResponse,
    private readonly token?: { url: string; response: RecordedResponse },
  ) {}
  async send(req: HttpRequest): Promise<HttpResponse> {
    if (this.token && req.url === this.token.url) return toHttpResponse(this.token.response);
    this.sent.push(req);
    return toHttpResponse(this.response);
  }
}

export interface ExampleResult {
  connector: string;
  capability: string;
  example: string;
  passed: boolean;
  /** Human-readable mismatches (a unified-style diff per mismatching part). */
  problems: string[];
}

/** A valid value of each credential `format` the manifest schema allows. */
const FORMAT_SAMPLES: Record<string, string> = {
  e164: '+15005550006',
  email: 'sender@example.com',
  uri: 'https://example.com',
  hostname: 'api.example.com',
  uuid: '123e4567-e89b-42d3-a456-426614174000',
};

/** Placeholder credentials satisfying the credential schema, used when an example gives none. */
export function sampleCredentials(connector: Connector): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(connector.credentialSchema)) {
    if (!f.required && f.default === undefined) continue;
    if (f.default !== undefined) out[name] = f.default;
    else if (f.enum) out[name] = f.enum[0];
    else if (f.type === 'boolean') out[name] = false;
    else if (f.type === 'integer' || f.type === 'number') out[name] = 1;
    else if (f.format) out[name] = FORMAT_SAMPLES[f.format] ?? `test_${name}`;
    else out[name] = samplePattern(f.pattern) ?? `test_${name}`;
  }
  return out;
}

/** A value for the simple anchored patterns manifests use: groups take their first alternative,
 *  character classes their first character, repeated as the quantifier asks. Undefined if it fails. */
export function samplePattern(pattern: string | undefined): string | undefined {
  if (!pattern) return undefined;
  const firstChar = (cls: string) => (cls.includes('0-9') ? '0' : cls.includes('a-') ? 'a' : cls.includes('A-') ? 'A' : cls.replace(/\\/g, '')[0] ?? 'x');
  const out = pattern
    .replace(/^\^|\$$/g, '')
    .replace(/\(([^()]*)\)/g, (_, alts: string) => alts.split('|')[0])
    .replace(/\[([^\]]+)\](?:\{(\d+)(?:,\d*)?\}|(\+)|(\*))?/g, (_, cls: string, n?: string) => firstChar(cls).repeat(n ? Number(n) : 1))
    .replace(/\\(.)/g, '$1');
  try {
    return new RegExp(pattern, 'u').test(out) ? out : undefined;
  } catch {
    return undefined;
  }
}

/** The access token of an oauth2_authorization_code example that gives no credentials.access_token. */
export const EXAMPLE_ACCESS_TOKEN = 'example-access-token';

/** A connection for runs that give none: each connection.<field> the templated base_url reads set to `url`. */
export function sampleConnection(connector: Connector, url: string): Record<string, unknown> {
  const refs = connector.baseUrlTemplate?.refs ?? [];
  return Object.fromEntries(refs.filter((r) => r.path[0] === 'connection' && r.path[1]).map((r) => [r.path[1], url]));
}

/**
 * Credentials, token source and connection of an offline or contract run of an example: an
 * oauth2_authorization_code connector gets a static token (the example's credentials.access_token, else
 * example-access-token) and the example's connection (else a sample one pointing at `url`).
 */
export function exampleAuth(connector: Connector, ex: Pick<ExampleSpec, 'credentials' | 'connection'> | undefined, url: string): Pick<RunOptions, 'credentials' | 'tokenSource' | 'connection'> {
  const credentials = ex?.credentials ?? sampleCredentials(connector);
  if (connector.auth.spec.type !== 'oauth2_authorization_code') return { credentials };
  const token = typeof credentials['access_token'] === 'string' && credentials['access_token'] ? credentials['access_token'] : EXAMPLE_ACCESS_TOKEN;
  return { credentials, tokenSource: new StaticTokenSource(token), connection: ex?.connection ?? sampleConnection(connector, url) };
}

/** Compares and records a diff; false when they differ. */
function compare(label: string, expected: unknown, actual: unknown, problems: string[]): boolean {
  if (isDeepStrictEqual(expected, actual)) return true;
  problems.push(`${label} differs:\n${diffLines(JSON.stringify(expected, null, 2) ?? 'undefined', JSON.stringify(actual, null, 2) ?? 'undefined')}`);
  return false;
}

/** Multipart and form fields as strings (repeated fields as arrays), the way they travel. */
function fieldsOf(entries: Iterable<[string, unknown]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of entries) {
    const value = typeof v === 'string' ? v : String(v);
    const prev = out[k];
    out[k] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

/** The example's expected fields as they travel: scalars as strings, lists of scalars as repeated fields. */
function expectedFields(expected: Record<string, unknown>): Record<string, unknown> {
  const str = (v: unknown) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
  return Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, Array.isArray(v) ? (v.length === 1 ? str(v[0]) : v.map(str)) : str(v)]));
}

/**
 * The body as the example can state it: JSON parsed; multipart (whose boundary is random) as its
 * fields; multipart/related as its parts ([{content_type, body | base64}]); a form body as its fields when the example gives an object, else as the encoded text.
 */
async function decodeBody(req: HttpRequest, expected: unknown): Promise<unknown> {
  if (req.body === undefined) return undefined;
  const text = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : req.body;
  const type = req.headers['content-type'] ?? '';
  if (type.includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  if (type.startsWith('multipart/related')) return decodeMultipartRelated(Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body), type) ?? text;
  const wantsFields = typeof expected === 'object' && expected !== null && !Array.isArray(expected);
  if (type.startsWith('multipart/form-data')) {
    const form = await new Response(typeof req.body === 'string' ? req.body : new Uint8Array(req.body), { headers: { 'content-type': type } }).formData();
    return wantsFields ? fieldsOf(form.entries()) : text;
  }
  if (type.startsWith('application/x-www-form-urlencoded') && wantsFields) return fieldsOf(new URLSearchParams(text).entries());
  return text;
}

export async function runExample(connector: Connector, capability: string, ex: ExampleSpec): Promise<ExampleResult> {
  const credentials = ex.credentials ?? sampleCredentials(connector);
  const token = connector.auth.spec.type === 'oauth2_client_credentials'
    ? {
        url: tokenUrl(connector, { credentials: { ...sampleCredentials(connector), ...credentials }, integration: { id: '', environment: '', metadata: {} }, baseUrl: OFFLINE_BASE, env: {} }),
        response: ex.token_response ?? DEFAULT_TOKEN_RESPONSE,
      }
    : undefined;
  const transport = new RecordedTransport(ex.response, token);
  const smtp = new RecordedSmtpTransport(ex.response);
  const engine = new Engine({ transport, smtp, env: {}, sleep: async () => {} });
  const result = await engine.run(connector, capability, { ...exampleAuth(connector, ex, OFFLINE_BASE), input: ex.input, baseUrl: OFFLINE_BASE });
  const problems: string[] = [];
  const sent = transport.sent[0];
  if (ex.request) {
    if (!sent) problems.push('no request was sent');
    else {
      const url = new URL(sent.url);
      if (ex.request.method !== undefined) compare('request method', ex.request.method, sent.method, problems);
      if (ex.request.path !== undefined) compare('request path', ex.request.path, url.pathname, problems);
      if (ex.request.query !== undefined) compare('request query', ex.request.query, Object.fromEntries(url.searchParams), problems);
      if (ex.request.headers !== undefined) {
        const picked = Object.fromEntries(Object.keys(ex.request.headers).map((k) => [k, sent.headers[k.toLowerCase()]]));
        compare('request headers', ex.request.headers, picked, problems);
      }
      if (ex.request.body !== undefined) {
        const fields = typeof ex.request.body === 'object' && ex.request.body !== null && /multipart\/form-data|urlencoded/.test(sent.headers['content-type'] ?? '');
        compare('request body', fields ? expectedFields(ex.request.body as Record<string, unknown>) : ex.request.body, await decodeBody(sent, ex.request.body), problems);
      }
    }
  }
  if (ex.message) {
    const view = smtp.sent[0] ? exampleView(smtp.sent[0]) : undefined;
    if (!view) problems.push('no message was sent');
    else compare('message', ex.message, Object.fromEntries(Object.keys(ex.message).map((k) => [k, view[k]])), problems);
  }
  if (ex.output !== undefined) {
    if (result.ok) compare('output', ex.output, result.output, problems);
    else problems.push(`expected output, got ${result.error.type}: ${result.error.message}`);
  } else if (ex.error) {
    if (result.ok) problems.push(`expected error ${ex.error.type}, got output ${JSON.stringify(result.output)}`);
    else {
      const actual: Record<string, unknown> = { type: result.error.type };
      if (ex.error.status !== undefined) actual['status'] = result.error.status;
      if (ex.error.message !== undefined) actual['message'] = result.error.message;
      // The diff shows only the parts the example names; the engine's own words explain the difference.
      if (!compare('error', ex.error, actual, problems)) problems.push(`the engine said: ${result.error.type}: ${result.error.message}`);
    }
  }
  if (result.ok) problems.push(...(await writeBackProblems(connector, capability, ex.input, result.output)));
  return { connector: connector.name, capability, example: ex.name, passed: problems.length === 0, problems };
}

/** A capability with `record:` must give, for the example's input and output, a valid model with its key (merged over nothing: as for a record not yet synced). */
async function writeBackProblems(connector: Connector, capability: string, input: unknown, output: unknown): Promise<string[]> {
  const wb = connector.capabilities.get(capability)?.record;
  const stream = wb && connector.streams.get(wb.stream);
  if (!wb || !stream) return [];
  let mapped: unknown;
  try {
    mapped = await wb.mapping.evaluate({ input, output });
  } catch (err) {
    return [`record.mapping failed: ${(err as Error).message}`];
  }
  if (mapped === null || mapped === undefined) return []; // nothing to write for this call, on purpose
  if (typeof mapped !== 'object' || Array.isArray(mapped)) return [`record.mapping gave ${JSON.stringify(mapped)}, not a ${stream.model} object`];
  const problems = modelErrors(stream.model, mapped).map((e) => `record.mapping: not a valid ${stream.model}: ${e}`);
  if (keyOf(mapped, stream.primaryKey) === null) problems.unshift(`record.mapping gave no ${stream.primaryKey} (the record's key)`);
  return problems;
}

export async function runConnectorExamples(connector: Connector): Promise<ExampleResult[]> {
  const out: ExampleResult[] = [];
  for (const [name, cap] of connector.capabilities) for (const ex of cap.examples) out.push(await runExample(connector, name, ex));
  return out;
}
