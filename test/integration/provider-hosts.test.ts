// A server the tenant names in the credentials is refused at a private address when the credentials are
// saved (POST and PATCH /integrations answer 422 naming the field), unless the operator set
// PLUGBOARD_ALLOW_PRIVATE_PROVIDERS=1 (test/integration/smtp.test.ts runs with it against loopback).
// No DNS is needed: the refused hosts are IP literals and localhost; nothing is stored or contacted.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

let pb: TestPlatform;
let tenant: { id: string; key: string };

beforeAll(async () => {
  pb = await startTestPlatform();
  tenant = await pb.tenant('Calendars');
}, 60_000);

afterAll(async () => {
  await pb?.close();
});

describe('servers named in the credentials (without PLUGBOARD_ALLOW_PRIVATE_PROVIDERS)', () => {
  it('refuses a caldav integration whose calendar_url is http://127.0.0.1/... with a 422 naming credentials.calendar_url', async () => {
    const r = await pb.api(tenant.key, 'POST', '/integrations', { provider: 'caldav', credentials: { calendar_url: 'http://127.0.0.1:5232/ana/personal/', username: 'ana', password: 'cal-secret-7f3k9q' } });
    expect(r.status, r.text).toBe(422);
    expect(Object.keys(r.body.errors)).toEqual(['credentials.calendar_url']);
    expect(r.body.errors['credentials.calendar_url'][0]).toContain('points to a loopback address (127.0.0.1)');
    expect(r.body.message).toContain('credentials.calendar_url');
    expect(r.body.message).toContain('PLUGBOARD_ALLOW_PRIVATE_PROVIDERS=1');
    expect(r.text).not.toContain('cal-secret-7f3k9q');
    const list = await pb.api(tenant.key, 'GET', '/integrations');
    expect(list.body.data).toEqual([]);
  });

  it('refuses the cloud metadata address and localhost too', async () => {
    for (const calendar_url of ['http://169.254.169.254/latest/meta-data/', 'http://localhost:8080/dav/']) {
      const r = await pb.api(tenant.key, 'POST', '/integrations', { provider: 'caldav', credentials: { calendar_url, username: 'ana', password: 'x-secret-1' } });
      expect(r.status, calendar_url).toBe(422);
      expect(r.body.errors).toHaveProperty(['credentials.calendar_url']);
    }
  });

  it('refuses an smtp host at a private address (credentials.host), on create and when the credentials are changed', async () => {
    const credentials = { host: '10.0.0.25', port: 587, security: 'starttls', username: 'ana@example.com', password: 'smtp-secret-1', from_address: 'ana@example.com' };
    const r = await pb.api(tenant.key, 'POST', '/integrations', { provider: 'smtp', credentials });
    expect(r.status, r.text).toBe(422);
    expect(r.body.errors['credentials.host'][0]).toContain('points to a private address (10.0.0.25)');

    // An integration saved while private servers were allowed cannot be moved to another private host by PATCH.
    const engine = pb.platform.engine as { allowPrivateProviders: boolean };
    engine.allowPrivateProviders = true;
    let id = '';
    try {
      const created = await pb.api(tenant.key, 'POST', '/integrations', { provider: 'smtp', credentials: { ...credentials, host: '127.0.0.1', port: 9 } });
      expect(created.status, created.text).toBe(201);
      id = created.body.data.id;
    } finally {
      engine.allowPrivateProviders = false;
    }
    const patched = await pb.api(tenant.key, 'PATCH', `/integrations/${id}`, { credentials: { host: '192.168.1.2' } });
    expect(patched.status, patched.text).toBe(422);
    expect(Object.keys(patched.body.errors)).toEqual(['credentials.host']);
    const after = await pb.api(tenant.key, 'GET', `/integrations/${id}`);
    expect(after.body.data.credentials.host).toBe('127.0.0.1');
  });
});
