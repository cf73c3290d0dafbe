import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadConnectorDir } from '../../runtime/manifest/registry.ts';
import { runConnectorExamples, sampleCredentials } from '../../runtime/testkit/examples.ts';
import { connectorFromYaml } from '../helpers/connector.ts';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';

const bin = path.join(PROJECT_ROOT, 'bin', 'plugboard');

const manifest = (expectedStatus: string) => `
schema_version: 1
name: demo
display_name: Demo
category: communication
base_url: https://demo.invalid
auth: { type: bearer, token: "{{credentials.token}}" }
credential_schema:
  token: { type: string, sensitive: true, required: true, pattern: "^dk_(live|test)_[a-z0-9]{8}$" }
capabilities:
  send_sms:
    request:
      method: POST
      path: /messages
      body_format: form
      body: '{ "to": input.to, "text": input.body }'
    response: '{ "message_id": id, "status": state }'
    examples:
      - name: queued
        input: { to: "+14155550123", body: hi }
        request: { method: POST, path: /messages, body: "to=%2B14155550123&text=hi" }
        response: { status: 200, body: { id: m1, state: queued } }
        output: { message_id: m1, status: ${expectedStatus} }
`;

describe('manifest test kit', () => {
  it('passes every example of the shipped connectors', async () => {
    const reg = loadConnectorDir(path.join(PROJECT_ROOT, 'connectors'));
    expect(reg.issues).toEqual([]);
    let count = 0;
    for (const c of reg.connectors.values()) {
      for (const r of await runConnectorExamples(c)) {
        count++;
        expect(r.problems, `${r.connector}.${r.capability}: ${r.example}`).toEqual([]);
      }
    }
    expect(count).toBeGreaterThanOrEqual(10);
  });

  it('reports a mismatching output as a diff', async () => {
    const [r] = await runConnectorExamples(connectorFromYaml(manifest('sent')));
    expect(r.passed).toBe(false);
    expect(r.problems.join('\n')).toContain('-   "status": "sent"');
    expect(r.problems.join('\n')).toContain('+   "status": "queued"');
  });

  it('makes placeholder credentials that satisfy simple patterns', () => {
    const c = connectorFromYaml(manifest('queued'));
    expect(sampleCredentials(c)).toEqual({ token: 'dk_live_00000000' });
  });

  it('`plugboard test` exits 1 with the diff on a failing example, 0 when all pass', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-kit-'));
    try {
      fs.writeFileSync(path.join(dir, 'demo.yaml'), manifest('sent'));
      const bad = spawnSync(bin, ['test'], { encoding: 'utf8', env: { ...process.env, PLUGBOARD_CONNECTORS_DIR: dir } });
      expect(bad.status).toBe(1);
      expect(bad.stdout).toContain('FAIL demo.send_sms: queued');
      expect(bad.stdout).toContain('0 passed, 1 failed');
      fs.writeFileSync(path.join(dir, 'demo.yaml'), manifest('queued'));
      const good = spawnSync(bin, ['test', 'demo'], { encoding: 'utf8', env: { ...process.env, PLUGBOARD_CONNECTORS_DIR: dir } });
      expect(good.status).toBe(0);
      expect(good.stdout).toContain('1 passed, 0 failed');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
