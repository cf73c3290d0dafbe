// Shared helpers of the connector contract tests (the judging server is runtime/testkit/contract/).
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadManifestFile, loadManifestText, formatIssue } from '../../runtime/manifest/load.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import type { RunResult } from '../../runtime/engine/engine.ts';
import { runContract, formatContractReport, type ContractReport, type ContractRun } from '../../runtime/testkit/contract/run-contract.ts';
import { PROVIDER_SPECS, type SpecServer, type CapturedRequest } from './spec-server.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CONNECTORS_DIR = path.join(ROOT, 'connectors');

export function manifestPath(name: string): string {
  return path.join(CONNECTORS_DIR, `${name}.yaml`);
}

/** The connector as the product loads it, from its own file (a missing or broken manifest throws, so its contract test fails). */
export function loadConnector(name: string): Connector {
  const res = loadManifestFile(manifestPath(name));
  if (!res.connector) throw new Error(`connector ${name} did not load from ${manifestPath(name)}:\n${res.issues.map(formatIssue).join('\n')}`);
  return res.connector;
}

/** Loads an edited copy of a manifest (negative tests). `edit` must change the text. */
export function loadEditedManifest(name: string, edit: (text: string) => string): Connector {
  const file = manifestPath(name);
  const original = fs.readFileSync(file, 'utf8');
  const text = edit(original);
  if (text === original) throw new Error(`the edit of ${name}.yaml changed nothing: the manifest's text no longer has what the negative test replaces`);
  const res = loadManifestText(text, file);
  if (!res.connector) throw new Error(`edited ${name}.yaml does not load:\n${res.issues.map(formatIssue).join('\n')}`);
  return res.connector;
}

/** Replaces exactly one occurrence of `from` (fails loudly if absent or ambiguous). */
export function replaceOnce(text: string, from: string | RegExp, to: string): string {
  const re = typeof from === 'string' ? new RegExp(from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g') : new RegExp(from.source, from.flags.includes('g') ? from.flags : `${from.flags}g`);
  const n = [...text.matchAll(re)].length;
  if (n !== 1) throw new Error(`expected exactly one match of ${String(from)} in the manifest, found ${n}`);
  return text.replace(re, to);
}

export function describeResult(result: RunResult, server: SpecServer): string {
  const parts: string[] = [];
  if (!result.ok) parts.push(`engine error: ${JSON.stringify(result.error, null, 2)}`);
  if (server.violations.length) parts.push(`spec violations:\n${server.violations.map((v) => `  ${v.method} ${v.path} [${v.operationId ?? '-'}] ${v.location} (${v.rule}): ${v.message}`).join('\n')}`);
  if (server.responseIssues.length) parts.push(`mock response issues:\n${server.responseIssues.map((r) => `  ${r.operationId} ${r.status}: ${r.message}`).join('\n')}`);
  parts.push(`requests: ${server.requests.map((r) => `${r.method} ${r.path}${r.rawQuery ? `?${r.rawQuery}` : ''} -> ${r.operationId ?? 'no operation'} ${r.status}`).join(', ') || 'none'}`);
  return parts.join('\n');
}

/**
 * The common assertion of a positive contract test: the engine succeeded, the spec server saw no
 * violation, every request hit a spec operation (`operationId` when given), and the server's own
 * answers matched the spec.
 */
export function expectContract(result: RunResult, server: SpecServer, operationId?: string): CapturedRequest {
  const info = describeResult(result, server);
  expect(result.ok, info).toBe(true);
  expect(server.violations, info).toEqual([]);
  expect(server.responseIssues, info).toEqual([]);
  expect(server.requests.length, info).toBeGreaterThan(0);
  for (const r of server.requests) {
    expect(r.operationId, info).toBeDefined();
    if (operationId) expect(r.operationId, info).toBe(operationId);
  }
  return server.requests[server.requests.length - 1]!;
}

/**
 * What `plugboard contract <name> --spec …` runs, in process: every capability example and verify
 * against the provider's spec files. Asserts that every run passed and that the runs cover every
 * capability, verify and stream.
 */
export async function expectConnectorContract(name: string, opts: { knownResponseFaults?: RegExp } = {}): Promise<ContractReport> {
  const connector = loadConnector(name);
  const report = await runContract(connector, { spec: PROVIDER_SPECS[name]! });
  const info = formatContractReport(report).join('\n');
  expect(report.failed, info).toBe(0);
  const streams = [...connector.streams.keys()].map((s) => `streams.${s}`);
  expect(new Set(report.runs.map((r) => r.capability)), info).toEqual(new Set([...connector.capabilities.keys(), ...(connector.verify ? ['verify'] : []), ...streams]));
  for (const run of report.runs) expect(run.violations, info).toEqual([]);
  // Every stream was judged on its first page, a follow-up page and (with a cursor) an incremental
  // request, and the page it was answered with matches the spec's response schema.
  for (const [name, s] of connector.streams) {
    const runs = report.runs.filter((r) => r.capability === `streams.${name}`);
    const kinds = runs.map((r) => (r.example ?? '').replace(/^.*: (first page|next page|incremental).*$/s, '$1'));
    expect(kinds, info).toContain('first page');
    if (s.pagination.spec.type !== 'none') expect(kinds, info).toContain('next page');
    if (s.cursor) expect(kinds, info).toContain('incremental');
    for (const run of runs) expect(run.responseIssues.filter((i) => !opts.knownResponseFaults?.test(i.message)), info).toEqual([]);
  }
  return report;
}

/** Base URL of a connector pointed at the spec server: server origin + the path of the connector's own base URL. */
export function baseUrlOf(connector: Connector, server: SpecServer, environment?: string): string {
  const own = environment ? connector.environments[environment] : connector.baseUrl ?? Object.values(connector.environments)[0];
  return server.baseUrlFor(own);
}

/** The query strings a stream's contract runs sent: first page, next page, incremental (undefined when not run). */
export function streamQueries(report: ContractReport, stream: string): { first?: string; next?: string; incremental?: string } {
  const of = (kind: string) => report.runs.find((r) => r.capability === `streams.${stream}` && (r.example ?? '').includes(`: ${kind}`))?.requests[0]?.query ?? (report.runs.some((r) => r.capability === `streams.${stream}` && (r.example ?? '').includes(`: ${kind}`)) ? '' : undefined);
  return { first: of('first page'), next: of('next page'), incremental: of('incremental') };
}

/** `plugboard contract` on an edited copy of a shipped manifest (negative tests): the failed stream runs. */
export async function failedStreamRuns(name: string, edit: (text: string) => string): Promise<ContractRun[]> {
  const report = await runContract(loadEditedManifest(name, edit), { spec: PROVIDER_SPECS[name]! });
  return report.runs.filter((r) => r.capability.startsWith('streams.') && !r.passed);
}
