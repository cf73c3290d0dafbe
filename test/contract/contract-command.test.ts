// `plugboard contract <connector> --spec FILE` as a user runs it (spawned): verdicts, violations
// naming the field, exit codes, one-line errors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { describe, it, expect, afterAll } from 'vitest';
import { ROOT, CONNECTORS_DIR, manifestPath, replaceOnce, loadConnector } from './helpers.ts';
import { PROVIDER_SPECS } from './spec-server.ts';

const BIN = path.join(ROOT, 'bin/plugboard');

function plugboard(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(BIN, args, { cwd: ROOT, env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Connectors of protocols with no OpenAPI document (WebDAV), tested against a real server of the protocol on loopback. */
const REAL_SERVER_TESTS: Record<string, string> = { caldav: 'test/contract/caldav.radicale.test.ts', smtp: 'test/unit/smtp-engine.test.ts' };
const specArgs = (name: string) => PROVIDER_SPECS[name]!.flatMap((f) => ['--spec', f]);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'plugboard-contract-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('plugboard contract', { timeout: 120_000 }, () => {
  it('--help describes the command', async () => {
    const r = await plugboard(['contract', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: plugboard contract <connector> --spec FILE/);
  });

  it('passes for twilio: a verdict per capability example and verify, exit 0', async () => {
    const r = await plugboard(['contract', 'twilio', ...specArgs('twilio')]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ok {3}twilio\.send_sms \(queued SMS\): POST \/2010-04-01\/Accounts\/AC\w+\/Messages\.json -> CreateMessage 201$/m);
    expect(r.stdout).toMatch(/^ok {3}twilio\.send_whatsapp /m);
    expect(r.stdout).toMatch(/^ok {3}twilio\.verify: GET .* -> FetchAccount 200$/m);
    // The messages stream: first page, the next_page_uri follow-up and the DateSent>= incremental request.
    expect(r.stdout).toMatch(/^ok {3}twilio\.streams\.messages \(.*: next page\): GET \/2010-04-01\/Accounts\/AC\w+\/Messages\.json\?PageSize=100&Page=1&PageToken=\w+ -> ListMessage 200$/m);
    expect(r.stdout).toMatch(/^ok {3}twilio\.streams\.messages \(.*: incremental .*\): GET .*DateSent%3E=.* -> ListMessage 200$/m);
    expect(r.stdout).toMatch(/^ok {3}twilio\.send_sms \(MMS with two images\): POST .* -> CreateMessage 201$/m);
    expect(r.stdout).toMatch(/^8 passed, 0 failed$/m);
  });

  it('passes for sendgrid with the recorded GET /v3/scopes fragment merged into the mail spec', async () => {
    const r = await plugboard(['contract', 'sendgrid', ...specArgs('sendgrid')]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/sendgrid-scopes\.yaml merged: GET \/v3\/scopes/);
    expect(r.stdout).toMatch(/^ok {3}sendgrid\.verify: GET \/v3\/scopes -> ListScope 200$/m);
  });

  it("passes for gmail (OAuth, static example token) with the Discovery spec's fix-ups named in the header", async () => {
    const r = await plugboard(['contract', 'gmail', ...specArgs('gmail')]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}spec: 6 request bod\(ies\) typed only message\/\* also accept application\/json \(same schema\)$/m);
    expect(r.stdout).toMatch(/^ok {3}gmail\.send_email \(text and html mail to two recipients with cc, bcc and reply-to\): POST \/gmail\/v1\/users\/me\/messages\/send -> gmail\.users\.messages\.send 200$/m);
    expect(r.stdout).toMatch(/^ok {3}gmail\.verify: GET \/gmail\/v1\/users\/me\/labels -> gmail\.users\.labels\.list 200$/m);
    expect(r.stdout).toMatch(/^4 passed, 0 failed$/m);
  });

  it('passes for zoho_crm against the bundled official spec: base URL from the example connection, Zoho-oauthtoken header', async () => {
    const r = await plugboard(['contract', 'zoho_crm', ...specArgs('zoho_crm')]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ok {3}zoho_crm\.create_contact \(contact from a full name\): POST \/crm\/v8\/Contacts -> Create Records 201$/m);
    expect(r.stdout).toMatch(/^ok {3}zoho_crm\.create_note \(note on a contact\): POST \/crm\/v8\/Notes -> Create Notes 201$/m);
    expect(r.stdout).toMatch(/^ok {3}zoho_crm\.verify: GET \/crm\/v8\/users -> Get Users 200$/m);
    expect(r.stdout).toMatch(/^17 passed, 0 failed$/m);
  });

  it('passes for microsoft_outlook: /me/… calls judged by Calendar.yml\'s /users/{user-id} operations through the /me aliases', async () => {
    const r = await plugboard(['contract', 'microsoft_outlook', ...specArgs('microsoft_outlook')]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}spec: \d+ \/users\/\{user-id\} path\(s\) also reachable as \/me$/m);
    expect(r.stdout).toMatch(/^ok {3}microsoft_outlook\.create_event \(a meeting in New York time with two attendees\): POST \/v1\.0\/me\/calendar\/events -> me\.calendar_CreateEvents 201$/m);
    expect(r.stdout).toMatch(/^ok {3}microsoft_outlook\.get_availability \(busy times of the default calendar\): GET \/v1\.0\/me\/calendar\/calendarView -> me\.calendar_ListCalendarView 200$/m);
    expect(r.stdout).toMatch(/^10 passed, 0 failed$/m);
  });

  it('fails on a deliberately wrong manifest, naming the method, path, field and rule', async () => {
    const broken = replaceOnce(fs.readFileSync(manifestPath('stripe'), 'utf8'), '"description": input.description,', '"descripton": input.description,');
    const file = path.join(tmp, 'stripe.yaml');
    fs.writeFileSync(file, broken);
    const r = await plugboard(['contract', file, ...specArgs('stripe')]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^FAIL stripe\.initiate_payment \(card payment confirmed at once\): POST \/v1\/payment_intents -> PostPaymentIntents 400$/m);
    expect(r.stdout).toMatch(/^ {7}POST \/v1\/payment_intents {2}request\.body\.descripton {2}\[additionalProperties\] unknown field "descripton"/m);
    expect(r.stdout).toMatch(/^ok {3}stripe\.verify: /m);
    expect(r.stdout).toMatch(/^\d+ passed, 1 failed$/m);
  });

  it('a missing connector fails with one line', async () => {
    const r = await plugboard(['contract', 'nosuch', ...specArgs('twilio')]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^plugboard: unknown connector "nosuch": .*nosuch\.yaml: cannot read file: ENOENT$/);
  });

  it('usage errors are one clear line', async () => {
    const noSpec = await plugboard(['contract', 'twilio']);
    expect(noSpec.code).toBe(1);
    expect(noSpec.stderr.trim()).toBe("plugboard: --spec FILE is required: the provider's OpenAPI document");
    const badSpec = await plugboard(['contract', 'twilio', '--spec', path.join(tmp, 'missing.json')]);
    expect(badSpec.code).toBe(1);
    expect(badSpec.stderr.trim()).toMatch(/^plugboard: cannot read spec file .*missing\.json: ENOENT$/);
    fs.writeFileSync(path.join(tmp, 'not-a-spec.json'), '{"hello": 1}');
    const notSpec = await plugboard(['contract', 'twilio', '--spec', path.join(tmp, 'not-a-spec.json')]);
    expect(notSpec.stderr.trim()).toMatch(/^plugboard: spec file .* is not an OpenAPI or Swagger document/);
  });

  it('every shipped connector has a spec and a contract test, none is skipped, and a missing manifest fails its test', () => {
    const shipped = fs.readdirSync(CONNECTORS_DIR).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));
    expect(shipped.length).toBeGreaterThan(0);
    for (const name of shipped) {
      if (REAL_SERVER_TESTS[name]) {
        // A protocol without an OpenAPI document: a real server of the protocol judges instead.
        const file = path.join(ROOT, REAL_SERVER_TESTS[name]);
        expect(fs.existsSync(file), `missing ${file}`).toBe(true);
        expect(fs.readFileSync(file, 'utf8')).toMatch(new RegExp(`loadConnector\\('${name}'\\)|'connectors', '${name}\\.yaml'`));
        continue;
      }
      expect(PROVIDER_SPECS[name], `no spec files for ${name} in test/contract/spec-server.ts`).toBeDefined();
      const test = path.join(ROOT, 'test/contract', `${name}.contract.test.ts`);
      expect(fs.existsSync(test), `missing ${test}`).toBe(true);
      expect(fs.readFileSync(test, 'utf8')).not.toMatch(/\.(skip|skipIf|todo)\b/);
      expect(fs.readFileSync(test, 'utf8')).toMatch(new RegExp(`expectConnectorContract\\('${name}'[,)]`));
    }
    expect(() => loadConnector('no_such_connector')).toThrow(/did not load .*no_such_connector\.yaml[\s\S]*cannot read file: ENOENT/);
  });
});
