// Issue 8 (what a new user hit from the README): `test` and `run` take a manifest path like
// `contract`; empty input is an error; CLI errors are one line.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';
import { smsManifest } from '../helpers/connector.ts';

const bin = path.join(PROJECT_ROOT, 'bin', 'plugboard');

const manifest = (extraCredentials = '') => smsManifest('mailz', extraCredentials);

let dir: string;
let connectors: string;
let elsewhere: string;
let empty: string;
const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(bin, args, {
    encoding: 'utf8',
    cwd: dir,
    env: { ...process.env, PLUGBOARD_CONNECTORS_DIR: connectors, PLUGBOARD_DATABASE_URL: `sqlite://${path.join(dir, 'db.sqlite')}`, HOST: '127.0.0.1', ...env },
    timeout: 60_000,
  });
/** Non-empty lines of stderr. */
const errLines = (r: { stderr: string }) => r.stderr.split('\n').filter((l) => l.trim());

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-first-run-'));
  connectors = path.join(dir, 'connectors');
  elsewhere = path.join(dir, 'x');
  empty = path.join(dir, 'empty');
  for (const d of [connectors, elsewhere, empty]) fs.mkdirSync(d);
  fs.writeFileSync(path.join(connectors, 'other.yaml'), smsManifest('other'));
  fs.writeFileSync(path.join(elsewhere, 'mailz.yaml'), manifest());
  fs.mkdirSync(path.join(dir, 'phone'));
  fs.writeFileSync(path.join(dir, 'phone', 'mailz.yaml'), manifest('  phone: { type: string, sensitive: false, required: false, format: phone }\n'));
  fs.writeFileSync(path.join(dir, 'creds.json'), JSON.stringify({ token: 'tok-123456' }));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('manifest paths in test and run', () => {
  it('`plugboard test <path>` tests the manifest at that path (absolute or relative)', () => {
    for (const arg of [path.join(elsewhere, 'mailz.yaml'), 'x/mailz.yaml']) {
      const r = cli(['test', arg]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain('ok   mailz.send_sms: sent');
      expect(r.stdout).toContain('1 passed, 0 failed');
      expect(r.status).toBe(0);
    }
    const both = cli(['test', 'other', 'x/mailz.yaml']);
    expect(both.stdout).toContain('2 passed, 0 failed');
  });

  it('`plugboard run <path> verify` runs the manifest at that path', () => {
    const r = cli(['run', path.join(elsewhere, 'mailz.yaml'), 'verify', '--credentials', 'creds.json']);
    expect(r.stderr).not.toContain('unknown connector');
    expect(r.stdout).toContain('declares no verify request');
  });

  it('a path that does not exist is one line naming it', () => {
    const r = cli(['test', 'x/nope.yaml']);
    expect(r.status).toBe(1);
    expect(errLines(r)).toEqual(['plugboard: unknown connector "x/nope.yaml": cannot read file: ENOENT']);
  });

  it('--help of test and run names paths and PLUGBOARD_CONNECTORS_DIR', () => {
    for (const cmd of ['test', 'run']) {
      const h = cli([cmd, '--help']).stdout;
      expect(h).toContain('PLUGBOARD_CONNECTORS_DIR');
      expect(h).toMatch(/path of a manifest file/);
    }
  });
});

describe('empty input is an error', () => {
  it('`plugboard validate <empty dir>` exits 1 with one line', () => {
    const r = cli(['validate', empty]);
    expect(r.status).toBe(1);
    expect(errLines(r)).toEqual([`plugboard: no manifests found in ${empty}`]);
    expect(r.stdout).toBe('');
  });

  it('`plugboard test` and `validate` with an empty PLUGBOARD_CONNECTORS_DIR exit 1 with one line', () => {
    for (const cmd of ['test', 'validate']) {
      const r = cli([cmd], { PLUGBOARD_CONNECTORS_DIR: empty });
      expect(r.status).toBe(1);
      expect(errLines(r)).toEqual([`plugboard: no manifests found in ${empty} (PLUGBOARD_CONNECTORS_DIR)`]);
      expect(r.stdout).not.toContain('0 passed');
    }
  });
});

describe('errors are one line', () => {
  let tenant: string;
  beforeAll(() => {
    const r = cli(['tenants', 'create', 'Limits']);
    expect(r.status).toBe(0);
    tenant = JSON.parse(r.stdout).tenant_id;
  });

  it('`tenants limits <id> --per-hour -1` is one line', () => {
    const r = cli(['tenants', 'limits', tenant, '--per-hour', '-1']);
    expect(r.status).toBe(1);
    expect(errLines(r)).toHaveLength(1);
    expect(r.stderr).toMatch(/^plugboard: .*--per-hour/);
    const eq = cli(['tenants', 'limits', tenant, '--per-hour=-1', '--burst', '5']);
    expect(errLines(eq)).toEqual(['plugboard: --per-hour must be a positive integer']);
  });

  it('`--per-hour 5` alone says --burst is required (and the other way round)', () => {
    expect(errLines(cli(['tenants', 'limits', tenant, '--per-hour', '5']))[0]).toMatch(/^plugboard: --burst is required/);
    expect(errLines(cli(['tenants', 'limits', tenant, '--burst', '5']))[0]).toMatch(/^plugboard: --per-hour is required/);
  });

  it('a port in use is one line naming it, exit 1', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const r = cli(['serve'], { PORT: String(port), PLUGBOARD_CONNECTORS_DIR: connectors });
      expect(r.status).toBe(1);
      expect(errLines(r)).toEqual([`plugboard: port ${port} is in use (PORT)`]);
      expect(r.stdout).not.toContain('"level":60');
    } finally {
      busy.close();
    }
  });

  it('`validate` of a credential with format: phone reports the manifest problem once, no Ajv warning', () => {
    const r = cli(['validate', path.join(dir, 'phone', 'mailz.yaml')]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/credential_schema\/phone\/format\s+must be one of: e164/);
    expect(r.stderr).not.toMatch(/unknown format/);
    expect(errLines(r)).toEqual(['1 problem(s) in 1 of 1 manifest(s)']);
  });
});

describe('migrate says what it did', () => {
  it('creates a new database, then finds it up to date', () => {
    const url = `sqlite://${path.join(dir, 'fresh.sqlite')}`;
    const first = cli(['migrate'], { PLUGBOARD_DATABASE_URL: url });
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/^fresh\.sqlite: created, schema version \d+\n$/);
    const again = cli(['migrate'], { PLUGBOARD_DATABASE_URL: url });
    expect(again.stdout).toMatch(/^fresh\.sqlite: schema is up to date \(version \d+\)\n$/);
  });
});
