// The manifest test kit: run each capability example offline. The example's recorded provider
// response is served by an in-memory transport; the request the engine built and the output (or
// typed error) it produced are compared with what the example expects.
import { isDeepStrictEqual } from 'node:util';
import type { Connector } from '../manifest/connector.ts';
import type { ExampleSpec } from '../manifest/types.ts';
import { Engine } from '../engine/engine.ts';
import type { HttpRequest, HttpResponse, HttpTransport } from '../http/transport.ts';
import { diffLines } from './diff.ts';

const OFFLINE_BASE = 'http://provider.invalid';

class RecordedTransport implements HttpTransport {
  sent: HttpRequest[] = [];
  constructor(private readonly response: ExampleSpec['response']) {}
  async send(req: HttpRequest): Promise<HttpResponse> {
    this.sent.push(req);
    const body = this.response.body;
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.response.headers ?? {})) headers[k.toLowerCase()] = v;
    if (typeof body === 'object' && body !== null && !headers['content-type']) headers['content-type'] = 'application/json';
    return { status: this.response.status, headers, body: Buffer.from(text) };
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

/** Placeholder credentials satisfying the credential schema, used when an example gives none. */
export function sampleCredentials(connector: Connector): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(connector.credentialSchema)) {
    if (!f.required && f.default === undefined) continue;
    if (f.default !== undefined) out[name] = f.default;
    else if (f.enum) out[name] = f.enum[0];
    else if (f.type === 'boolean') out[name] = false;
    else if (f.type === 'integer' || f.type === 'number') out[name] = 1;
    else if (f.format === 'e164') out[name] = '+15005550006';
    else if (f.format === 'email') out[name] = 'sender@example.com';
    else if (f.format === 'uri') out[name] = 'https://example.com';
    else out[name] = samplePattern(f.pattern) ?? `test_${name}`;
  }
  return out;
}

/** A value for the simple anchored patterns manifests use: groups take their first alternative,
 *  character classes their first character, repeated as the quantifier asks. Undefined if it fails. */
function samplePattern(pattern: string | undefined): string | undefined {
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

function compare(label: string, expected: unknown, actual: unknown, problems: string[]): void {
  if (isDeepStrictEqual(expected, actual)) return;
  problems.push(`${label} differs:\n${diffLines(JSON.stringify(expected, null, 2) ?? 'undefined', JSON.stringify(actual, null, 2) ?? 'undefined')}`);
}

function decodeBody(req: HttpRequest): unknown {
  if (req.body === undefined) return undefined;
  const text = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : req.body;
  if ((req.headers['content-type'] ?? '').includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

export async function runExample(connector: Connector, capability: string, ex: ExampleSpec): Promise<ExampleResult> {
  const transport = new RecordedTransport(ex.response);
  const engine = new Engine({ transport, env: {}, sleep: async () => {} });
  const result = await engine.run(connector, capability, {
    credentials: ex.credentials ?? sampleCredentials(connector),
    input: ex.input,
    baseUrl: OFFLINE_BASE,
  });
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
      if (ex.request.body !== undefined) compare('request body', ex.request.body, decodeBody(sent), problems);
    }
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
      compare('error', ex.error, actual, problems);
    }
  }
  return { connector: connector.name, capability, example: ex.name, passed: problems.length === 0, problems };
}

export async function runConnectorExamples(connector: Connector): Promise<ExampleResult[]> {
  const out: ExampleResult[] = [];
  for (const [name, cap] of connector.capabilities) for (const ex of cap.examples) out.push(await runExample(connector, name, ex));
  return out;
}
