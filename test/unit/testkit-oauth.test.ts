// OAuth (authorization code) connectors run offline (`plugboard test`) and under `plugboard contract`
// with a static token source: example-access-token unless the example gives credentials.access_token,
// and the example's connection (which a templated base_url and the request body read).
import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { runConnectorExamples } from '../../runtime/testkit/examples.ts';
import { runContract } from '../../runtime/testkit/contract/run-contract.ts';
import { connectorFromYaml } from '../helpers/connector.ts';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';

const DIR = path.join(PROJECT_ROOT, 'test/fixtures/oauth-provider');
const MANIFEST = path.join(DIR, 'acme_oauth.yaml');
const SPEC = path.join(DIR, 'acme_oauth.openapi.yaml');
const text = fs.readFileSync(MANIFEST, 'utf8');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-oauth-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function plugboard(args: string[], env: Record<string, string> = {}) {
  return spawnSync(path.join(PROJECT_ROOT, 'bin', 'plugboard'), args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
}

function variant(from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`fixture lacks ${from}`);
  const file = path.join(tmp, 'acme_oauth.yaml');
  fs.writeFileSync(file, text.replace(from, to));
  return file;
}

describe('offline examples of an oauth2_authorization_code connector', () => {
  it('pass with the static token and the example connection', async () => {
    const results = await runConnectorExamples(connectorFromYaml(text));
    expect(results.map((r) => [r.example, r.problems])).toEqual([
      ['created with the default example token', []],
      ["created with the example's own token", []],
      ['token rejected', []],
    ]);
  });

  it('compare the token and the connection-derived body for real', async () => {
    const wrongToken = text.replace('Authorization: Bearer example-access-token', 'Authorization: Bearer some-other-token');
    const wrongOwner = text.replace('last_name: Lovelace, owner_id: u_42 }', 'last_name: Lovelace, owner_id: u_99 }');
    expect((await runConnectorExamples(connectorFromYaml(wrongToken)))[0].problems.join('\n')).toContain('request headers differs');
    expect((await runConnectorExamples(connectorFromYaml(wrongOwner)))[0].problems.join('\n')).toContain('"owner_id": "u_42"');
  });

  it('`plugboard test` passes them', { timeout: 120_000 }, () => {
    const r = plugboard(['test', 'acme_oauth'], { PLUGBOARD_CONNECTORS_DIR: DIR });
    expect(r.stdout + r.stderr).toContain('3 passed, 0 failed');
    expect(r.status).toBe(0);
  });
});

describe('plugboard contract for an oauth2_authorization_code connector', { timeout: 120_000 }, () => {
  it('sends every example (and verify) with a bearer token under the base path the connection gives', async () => {
    const report = await runContract(connectorFromYaml(text), { spec: [SPEC] });
    expect(report.runs.map((r) => [r.capability, r.passed, r.requests.map((q) => `${q.method} ${q.path} ${q.status}`), r.problems, r.violations])).toEqual([
      ['create_contact', true, ['POST /api/v2/contacts 201'], [], []],
      ['create_contact', true, ['POST /api/v2/contacts 201'], [], []],
      ['create_contact', true, ['POST /api/v2/contacts 401'], [], []],
      ['verify', true, ['GET /api/v2/me 200'], [], []],
    ]);
  });

  it('the command passes, and fails on a deliberately wrong field naming it', () => {
    const ok = plugboard(['contract', MANIFEST, '--spec', SPEC]);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^4 passed, 0 failed$/m);
    const bad = plugboard(['contract', variant('"owner_id": connection.owner_id', '"ownerid": connection.owner_id'), '--spec', SPEC]);
    expect(bad.status, bad.stdout + bad.stderr).toBe(1);
    expect(bad.stdout).toMatch(/POST \/api\/v2\/contacts {2}request\.body\.ownerid {2}\[additionalProperties\]/);
  });
});
