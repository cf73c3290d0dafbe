// Issue 8, item 14: one broken manifest must not block work on others. validate, test and run load
// only the connectors named; serve still refuses to start on any invalid manifest, listing them all.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';
import { loadNamedConnectors } from '../../runtime/manifest/registry.ts';
import { smsManifest } from '../helpers/connector.ts';

const bin = path.join(PROJECT_ROOT, 'bin', 'plugboard');

const good = smsManifest('mailx');
const broken = `schema_version: 1
name: xeroy
display_name: Xero Y
category: accounting
base_url: https://xero.invalid
auth: { type: bearer, token: "{{credentials.tokn}}" }
credential_schema:
  token: { type: string, sensitive: true, required: true }
capabilities: {}
`;

let dir: string;
const cli = (args: string[]) => spawnSync(bin, args, { encoding: 'utf8', cwd: dir, env: { ...process.env, PLUGBOARD_CONNECTORS_DIR: dir, PLUGBOARD_DATABASE_URL: `sqlite://${path.join(dir, 'db.sqlite')}`, PORT: '0' }, timeout: 60_000 });

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-named-'));
  fs.writeFileSync(path.join(dir, 'mailx.yaml'), good);
  fs.writeFileSync(path.join(dir, 'xeroy.yaml'), broken);
  fs.writeFileSync(path.join(dir, 'creds.json'), JSON.stringify({ token: 'tok-123456' }));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('named connectors', () => {
  it('loadNamedConnectors loads only the named ones and reports only their problems', () => {
    const ok = loadNamedConnectors(dir, ['mailx']);
    expect(ok.issues).toEqual([]);
    expect([...ok.connectors.keys()]).toEqual(['mailx']);
    const bad = loadNamedConnectors(dir, ['xeroy']);
    expect(bad.connectors.size).toBe(0);
    expect(bad.issues.length).toBeGreaterThan(0);
    expect(bad.issues.every((i) => i.file.endsWith('xeroy.yaml'))).toBe(true);
    const unknown = loadNamedConnectors(dir, ['nope']);
    expect(unknown.issues).toMatchObject([{ rule: 'unknown_connector', message: expect.stringContaining('mailx, xeroy') }]);
  });

  it('`plugboard test mailx` runs although xeroy.yaml is broken', () => {
    const r = cli(['test', 'mailx']);
    expect(r.stdout + r.stderr).not.toContain('xeroy');
    expect(r.stdout).toContain('1 passed, 0 failed');
    expect(r.status).toBe(0);
  });

  it('`plugboard test` without names runs the good connectors and reports the broken one', () => {
    const r = cli(['test']);
    expect(r.stdout).toContain('ok   mailx.send_sms: sent');
    expect(r.stdout).toContain('xeroy.yaml');
    expect(r.status).toBe(1);
  });

  it('`plugboard validate mailx` checks only that connector', () => {
    const r = cli(['validate', 'mailx']);
    expect(r.stdout + r.stderr).not.toContain('xeroy');
    expect(r.status).toBe(0);
    const bad = cli(['validate', 'xeroy']);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain('xeroy.yaml');
  });

  it('`plugboard run mailx` is not blocked by xeroy.yaml', () => {
    const r = cli(['run', 'mailx', 'verify', '--credentials', 'creds.json']);
    // mailx declares no verify request: the engine answers, the broken manifest does not stop it.
    expect(r.stdout).toContain('declares no verify request');
    expect(r.stderr).not.toContain('xeroy');
  });

  it('`plugboard serve` still refuses to start, listing every problem', () => {
    const r = cli(['serve']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('xeroy.yaml');
    expect(r.stderr).toContain('credentials.tokn');
  });
});
