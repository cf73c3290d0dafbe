// The smtp connector through the REST API (DESIGN §3): an integration with an SMTP server's settings
// is verified by logging in (verify: { smtp: true }), POST /operations/send_email sends through it,
// and a wrong password ends in status error with the server's words but never the password, which
// also appears in no response, log line or database row. The SMTP server is smtp-server on 127.0.0.1.
import fs from 'node:fs';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.ts';

const PASSWORD = 'smtp-Secret-9f3a7c';
const WRONG = 'smtp-Wrong-5be21d';
let pb: TestPlatform;
let mail: TestSmtpServer;
let tenant: { id: string; key: string };

const credentials = (password: string) => ({ host: '127.0.0.1', port: mail.port, security: 'none', username: 'ana@example.com', password, from_address: 'ana@example.com', from_name: 'Ana' });

beforeAll(async () => {
  mail = await startSmtpServer({ users: { 'ana@example.com': PASSWORD } });
  // The SMTP server is on loopback: a private address, allowed only with PLUGBOARD_ALLOW_PRIVATE_PROVIDERS=1.
  pb = await startTestPlatform({ PLUGBOARD_ALLOW_PRIVATE_PROVIDERS: '1' });
  tenant = await pb.tenant('Mailers');
}, 60_000);

afterAll(async () => {
  await pb?.close();
  await mail?.close();
});

describe('smtp integrations over the API', () => {
  it('lists smtp as a provider with auth_type smtp and its credential schema', async () => {
    const r = await pb.api(tenant.key, 'GET', '/providers?per_page=100');
    const smtp = r.body.data.find((p: any) => p.name === 'smtp');
    expect(smtp).toMatchObject({ auth_type: 'smtp', category: 'email', capabilities: ['send_email'] });
    expect(smtp.credential_schema.password).toMatchObject({ sensitive: true });
    expect(smtp.credential_schema.security).toMatchObject({ enum: ['starttls', 'tls', 'none'] });
  });

  it('verifies by logging in, sends POST /operations/send_email, and refuses a wrong password without showing it', async () => {
    const created = await pb.api(tenant.key, 'POST', '/integrations', { provider: 'smtp', credentials: credentials(PASSWORD) });
    expect(created.status, created.text).toBe(201);
    expect(created.body.data.credentials.password).toBeNull();
    const id = created.body.data.id as string;
    await pb.waitFor(async () => (await pb.api(tenant.key, 'GET', `/integrations/${id}`)).body.data.status === 'active', 'smtp integration active');
    expect(mail.received).toHaveLength(0); // verify sends nothing

    const op = await pb.api(tenant.key, 'POST', '/operations/send_email', { input: { to: ['bo@example.com'], cc: ['cy@example.com'], subject: 'Hello over SMTP', text: 'plain body', html: '<p>html body</p>' }, integration_id: id });
    expect(op.status, op.text).toBe(200);
    expect(op.body.data).toMatchObject({ integration_id: id, provider: 'smtp', fallback_used: false, output: { status: 'sent' } });
    expect(mail.received).toHaveLength(1);
    const m = mail.received[0]!.mail;
    expect(m.subject).toBe('Hello over SMTP');
    expect(m.html).toBe('<p>html body</p>');
    expect(m.text?.trim()).toBe('plain body');
    expect(op.body.data.output.message_id).toBe(m.messageId);
    expect(mail.received[0]!.user).toBe('ana@example.com');

    const deliveries = await pb.api(tenant.key, 'GET', `/deliveries?operation_id=${op.body.data.operation_id}`);
    expect(deliveries.body.data[0]).toMatchObject({ status: 'succeeded', provider_status_code: 250, capability: 'send_email' });

    // One integration per provider per tenant (DESIGN §3): a second tenant holds the wrong password.
    const other = await pb.tenant('Other');
    const bad = await pb.api(other.key, 'POST', '/integrations', { provider: 'smtp', credentials: credentials(WRONG) });
    expect(bad.status, bad.text).toBe(201);
    const badId = bad.body.data.id as string;
    const failed = await pb.waitFor(async () => {
      const d = (await pb.api(other.key, 'GET', `/integrations/${badId}`)).body.data;
      return d.status === 'error' ? d : undefined;
    }, 'smtp integration with a wrong password in error');
    expect(failed.metadata.verification_error).toMatch(/rejected the login/);
    expect(failed.metadata.verification_error_type).toBe('invalid_credentials');

    for (const secret of [PASSWORD, WRONG]) {
      expect(pb.responses.join('\n')).not.toContain(secret);
      expect(fs.readFileSync(pb.logFile, 'utf8')).not.toContain(secret);
      expect(await pb.dumpDatabase()).not.toContain(secret);
    }
  });
});
