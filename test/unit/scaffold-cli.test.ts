// `./bin/plugboard scaffold` end to end: writes the file, which `validate` and `test` accept;
// refuses to overwrite without --force; unknown operations and unreadable specs are one clear line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';

const bin = path.resolve(import.meta.dirname, '../../bin/plugboard');
const SPEC = '/work/shared/provider-specs/twilio/twilio_api_v2010.json';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-scaffold-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(bin, args, { encoding: 'utf8', env: { ...process.env, PLUGBOARD_CONNECTORS_DIR: dir } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('plugboard scaffold (CLI)', () => {
  const out = path.join(dir, 'twilio_sms.yaml');

  it('writes a manifest that validate and test accept', () => {
    const r = cli('scaffold', '--spec', SPEC, '--operation', 'CreateMessage', '--out', out);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`wrote ${out}: connector "twilio_sms", create_message`);
    const text = fs.readFileSync(out, 'utf8');
    expect(text).toMatch(/^name: twilio_sms$/m);
    expect(text).toContain('TODO: fill mapping');
    const v = cli('validate', out);
    expect(v.out + v.err).toContain('1 manifest(s) valid');
    expect(v.code).toBe(0);
    const t = cli('test', out);
    expect(t.out).toContain('ok   twilio_sms.create_message');
    expect(t.code).toBe(0);
  }, 120_000);

  it('refuses an existing file without --force, overwrites with it', () => {
    fs.writeFileSync(out, 'keep me');
    const r = cli('scaffold', '--spec', SPEC, '--operation', 'CreateMessage', '--out', out);
    expect(r.code).toBe(1);
    expect(r.err.trim()).toBe(`plugboard: ${out} exists; use --force to overwrite it`);
    expect(fs.readFileSync(out, 'utf8')).toBe('keep me');
    const f = cli('scaffold', '--spec', SPEC, '--operation', 'CreateMessage', '--out', out, '--force');
    expect(f.code).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toContain('create_message:');
  }, 120_000);

  it('names close matches for an unknown operation and explains an unreadable spec', () => {
    const r = cli('scaffold', '--spec', SPEC, '--operation', 'createmesage', '--out', path.join(dir, 'x.yaml'));
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/unknown operation "createmesage" in twilio_api_v2010\.json \(did you mean "CreateMessage"/);
    const u = cli('scaffold', '--spec', path.join(dir, 'missing.json'), '--operation', 'X', '--out', path.join(dir, 'y.yaml'));
    expect(u.code).toBe(1);
    expect(u.err.trim()).toMatch(/^plugboard: cannot read spec file .*missing\.json: ENOENT$/);
    expect(fs.existsSync(path.join(dir, 'x.yaml'))).toBe(false);
  }, 120_000);

  it('is listed in the usage', () => {
    expect(cli('--help').out).toMatch(/scaffold --spec FILE --operation ID\.\.\.\s+write a starter manifest/);
  });
});
