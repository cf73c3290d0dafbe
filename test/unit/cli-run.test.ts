import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { startServer } from '../helpers/http.ts';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';

const bin = path.join(PROJECT_ROOT, 'bin', 'plugboard');

function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(bin, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('plugboard run (dry run)', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let dir: string;
  beforeAll(async () => {
    server = await startServer((r) =>
      r.url.endsWith('/Messages.json') && r.body.includes('To=%2B14155550123')
        ? { status: 201, body: { sid: 'SMbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', status: 'queued', to: '+14155550123', num_segments: '1' } }
        : { status: 400, body: { code: 21211, message: "The 'To' number is not valid." } },
    );
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-run-'));
    fs.writeFileSync(path.join(dir, 'creds.json'), JSON.stringify({ account_sid: 'AC' + 'c'.repeat(32), auth_token: 'f'.repeat(32), from_number: '+15005550006' }));
    fs.writeFileSync(path.join(dir, 'input.json'), JSON.stringify({ to: '+14155550123', body: 'hello' }));
    fs.writeFileSync(path.join(dir, 'bad-input.json'), JSON.stringify({ to: '+14155550999', body: 'hello' }));
  });
  afterAll(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('prints the normalized output and exits 0', async () => {
    const r = await runCli(['run', 'twilio', 'send_sms', '--credentials', path.join(dir, 'creds.json'), '--input', path.join(dir, 'input.json'), '--base-url', server.url]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, output: { message_id: 'SMbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', status: 'queued', segments: 1 } });
  });

  it('honours PLUGBOARD_BASE_URL_<PROVIDER>', async () => {
    const r = await runCli(['run', 'twilio', 'send_sms', '--credentials', path.join(dir, 'creds.json'), '--input', path.join(dir, 'input.json')], { PLUGBOARD_BASE_URL_TWILIO: server.url });
    expect(r.code).toBe(0);
  });

  it('prints the typed provider error without the auth token and exits 1', async () => {
    const r = await runCli(['run', 'twilio', 'send_sms', '--credentials', path.join(dir, 'creds.json'), '--input', path.join(dir, 'bad-input.json'), '--base-url', server.url]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { type: 'provider_error', status: 400, provider_message: "The 'To' number is not valid.", provider_code: '21211' } });
    expect(r.stdout + r.stderr).not.toContain('f'.repeat(32));
  });

  it('reports an unreachable provider as a typed error', async () => {
    const r = await runCli(['run', 'twilio', 'send_sms', '--credentials', path.join(dir, 'creds.json'), '--input', path.join(dir, 'input.json'), '--base-url', 'http://127.0.0.1:9']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error.type).toBe('network_error');
  });

  it('fails with one clear line on bad usage', async () => {
    const missing = await runCli(['run', 'twilio', 'send_sms', '--credentials', path.join(dir, 'nope.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^plugboard: cannot read credentials file .*nope\.json: ENOENT$/);
    const unknown = await runCli(['run', 'nosuch', 'send_sms', '--credentials', path.join(dir, 'creds.json')]);
    expect(unknown.stderr.trim()).toMatch(/^plugboard: unknown connector "nosuch"/);
    const flag = await runCli(['run', '--bogus']);
    expect(flag.code).toBe(1);
    expect(flag.stderr).not.toMatch(/\n\s+at /);
  });
});
