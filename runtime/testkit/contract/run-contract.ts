// `plugboard contract`: runs every capability example and verify of a connector against the
// contract server (spec-server.ts), and gives each run a verdict. A run passes when it reached the
// server, every request matched an operation of the spec without a violation, and the engine's
// result is what the example expects (its output, or an error of its type). Capabilities send the
// inputs of the manifest's examples and are answered with the example's recorded response (checked
// against the spec's response schema); verify sends no input and gets the spec's own answer. Streams
// are judged page by page (stream-contract.ts).
import type { Connector } from '../../manifest/connector.ts';
import type { ExampleSpec } from '../../manifest/types.ts';
import { Engine, type RunResult } from '../../engine/engine.ts';
import { UndiciTransport, type HttpRequest, type HttpResponse, type HttpTransport } from '../../http/transport.ts';
import { exampleAuth } from '../examples.ts';
import type { LoadedSpec } from './spec-document.ts';
import { startSpecServer, type CapturedRequest, type MockResponse, type ResponseIssue, type SpecServer, type Violation } from './spec-server.ts';
import { resolveAgainstBase } from '../../http/url.ts';
import { PlugboardError } from '../../errors/plugboard-error.ts';
import { streamContractRuns } from './stream-contract.ts';
import type { ContractRun } from './contract-run.ts';

export type { ContractRun } from './contract-run.ts';


export interface ContractReport {
  connector: string;
  specFiles: string[];
  fixups: string[];
  runs: ContractRun[];
  passed: number;
  failed: number;
}

export interface ContractOptions {
  /** Spec files (the first is the provider's document; later ones are merged in), or a loaded spec. */
  spec: string[] | LoadedSpec;
  /** One of the manifest's environments (default: base_url, else the first environment). */
  environment?: string;
}

/** How long the contract server may take to judge one request: a large spec's first Ajv compile of an operation (DocuSign's envelopes: ~23 s, more on a busy machine) is the harness's time, not the provider's. */
const JUDGE_TIMEOUT_MS = 300_000;

/** Sends every request to the contract server: absolute URLs (token endpoints, next pages) keep their path but never leave the machine. */
class LoopbackTransport implements HttpTransport {
  private readonly inner = new UndiciTransport({ connections: 4 });
  constructor(private readonly origin: string) {}
  send(req: HttpRequest): Promise<HttpResponse> {
    const url = new URL(req.url);
    return this.inner.send({ ...req, url: this.origin + url.pathname + url.search, timeoutMs: Math.max(req.timeoutMs, JUDGE_TIMEOUT_MS) });
  }
}

function connectorBase(connector: Connector, environment?: string): string | undefined {
  if (environment) {
    const url = connector.environments[environment];
    if (!url) throw new PlugboardError('validation', `connector ${connector.name} has no environment "${environment}" (known: ${Object.keys(connector.environments).join(', ') || 'none'})`);
    return url;
  }
  if (connector.baseUrlTemplate) {
    // A base URL from the connection: rendered from the first example's connection, else a placeholder host
    // (the contract server keeps only its path).
    const withConnection = [...connector.capabilities.values()].flatMap((c) => c.examples).find((e) => e.connection);
    const { connection } = exampleAuth(connector, withConnection, 'https://provider.invalid');
    const url = connector.baseUrlTemplate.render({ connection });
    if (/^https?:\/\//.test(url)) return url;
  }
  return connector.baseUrl ?? Object.values(connector.environments)[0];
}

function tokenPaths(connector: Connector, base: string | undefined): string[] {
  const url = connector.manifest.auth.token_url;
  if (!url || url.includes('{{')) return [];
  // Resolved as the engine resolves it (a base URL's path prefix is kept).
  try {
    return [new URL(resolveAgainstBase(base ?? 'http://x', url)).pathname];
  } catch {
    return [];
  }
}

function judge(capability: string, example: ExampleSpec | undefined, result: RunResult, server: SpecServer): ContractRun {
  const problems: string[] = [];
  if (!server.requests.length) problems.push(`no request reached the server${result.ok ? '' : ` (${result.error.type}: ${result.error.message})`}`);
  for (const r of server.requests) if (!r.operationId && !r.violations.length) problems.push(`${r.method} ${r.path} matched no operation`);
  if (!server.violations.length && server.requests.length) {
    const expected = example?.error?.type;
    if (expected && result.ok) problems.push(`the example expects a ${expected} error, the engine returned output`);
    else if (expected && !result.ok && result.error.type !== expected) problems.push(`the example expects a ${expected} error, got ${result.error.type}: ${result.error.message}`);
    else if (!expected && !result.ok) problems.push(`engine: ${result.error.type}: ${result.error.message}`);
  }
  return {
    capability,
    ...(example ? { example: example.name } : {}),
    passed: problems.length === 0 && server.violations.length === 0,
    requests: server.requests.map(({ method, path, operationId, status }) => ({ method, path, operationId, status })),
    violations: [...server.violations],
    responseIssues: [...server.responseIssues],
    problems,
  };
}

export async function runContract(connector: Connector, opts: ContractOptions): Promise<ContractReport> {
  // Spec files go to the server as files, so servers of one process share their compiled validators.
  const spec = opts.spec;
  const specFiles = Array.isArray(spec) ? spec : spec.files;
  const base = connectorBase(connector, opts.environment);
  let answer: MockResponse | undefined;
  // A token endpoint the spec defines (Dwolla's POST /token) is judged by the spec and answered with the
  // spec's own token, never with a capability example's recorded answer.
  const tokens = tokenPaths(connector, base);
  const server = await startSpecServer(spec, { respond: (req) => (tokens.includes(req.path) ? undefined : answer), tokenPaths: tokens });
  const baseUrl = server.baseUrlFor(base);
  // A fresh engine per run: manifest rate limits (Slack: 1/s) must not slow the command down.
  const engine = () => new Engine({ transport: new LoopbackTransport(server.origin), env: {}, sleep: async () => {} });
  const runs: ContractRun[] = [];
  try {
    for (const [name, cap] of connector.capabilities) {
      for (const ex of cap.examples) {
        server.reset();
        answer = { status: ex.response.status, headers: ex.response.headers, body: ex.response.body };
        const result = await engine().run(connector, name, { ...exampleAuth(connector, ex, baseUrl), input: ex.input, baseUrl });
        runs.push(judge(name, ex, result, server));
      }
      if (!cap.examples.length) runs.push({ capability: name, passed: false, requests: [], violations: [], responseIssues: [], problems: ['the capability has no examples: nothing to send'] });
    }
    if (connector.verify) {
      server.reset();
      answer = undefined;
      // The credentials and connection the capability examples give (Xero's xero-tenant-id is connection.tenant_id).
      const examples = [...connector.capabilities.values()].flatMap((c) => c.examples);
      const firstCredentials = examples.find((e) => e.credentials)?.credentials;
      const firstConnection = examples.find((e) => e.connection)?.connection;
      const result = await engine().verify(connector, { ...exampleAuth(connector, { credentials: firstCredentials, connection: firstConnection }, baseUrl), baseUrl });
      runs.push(judge('verify', undefined, result, server));
    }
    // Streams: first page, follow-up page and incremental request (stream-contract.ts), with the
    // credentials and connection the capability examples give (Calendly's `user` is connection.owner).
    const all = [...connector.capabilities.values()].flatMap((c) => c.examples);
    const auth = exampleAuth(connector, { credentials: all.find((e) => e.credentials)?.credentials, connection: all.find((e) => e.connection)?.connection }, baseUrl);
    // Streams read from the provider's own base URL (the transport sends every request to the
    // contract server), so absolute links of recorded pages (Graph's @odata.nextLink) pass the
    // engine's same-origin check as they would live.
    const streamBase = base && /^https?:\/\//.test(base) ? base : baseUrl;
    for (const s of connector.streams.values()) {
      const ctx = { server, engine, baseUrl: streamBase, auth, answer: (a: MockResponse | undefined) => { answer = a; } };
      runs.push(...(await streamContractRuns(connector, s, ctx)));
    }
  } finally {
    await server.close();
  }
  const passed = runs.filter((r) => r.passed).length;
  return { connector: connector.name, specFiles, fixups: server.fixups, runs, passed, failed: runs.length - passed };
}

/** The report as the command prints it: a verdict line per run, then each violation (method, path, field, rule) and problem. */
export function formatContractReport(report: ContractReport): string[] {
  const lines: string[] = [`contract ${report.connector} against ${report.specFiles.join(' + ')}`];
  for (const f of report.fixups) lines.push(`  spec: ${f}`);
  for (const run of report.runs) {
    const sent = run.requests.map((r) => `${r.method} ${r.path}${r.query ? `?${r.query}` : ''} -> ${r.operationId ?? 'no operation'} ${r.status ?? ''}`.trim()).join(', ') || 'no request';
    lines.push(`${run.passed ? 'ok  ' : 'FAIL'} ${report.connector}.${run.capability}${run.example ? ` (${run.example})` : ''}: ${sent}`);
    for (const v of run.violations) lines.push(`       ${v.method} ${v.path}  ${v.location}  [${v.rule}] ${v.message}`);
    for (const p of run.problems) lines.push(`       ${p}`);
    const issues = run.responseIssues;
    if (issues.length) {
      const shown = issues.slice(0, 3).map((i) => i.message).join('; ');
      lines.push(`       note: the example's recorded ${issues[0]!.status} answer differs from the spec's ${issues[0]!.operationId} response (${issues.length} issue${issues.length > 1 ? 's' : ''}): ${shown}${issues.length > 3 ? '; …' : ''}`);
    }
  }
  lines.push(`${report.passed} passed, ${report.failed} failed`);
  return lines;
}
