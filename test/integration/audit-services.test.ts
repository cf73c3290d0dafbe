// The services audit their own changes (handlers only translate HTTP): the entries are the same
// through the API, a caller that is not the API (CLI, MCP server) is audited too, and a failed
// audit write after the change still answers success and is logged at error level.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { actingAs } from '../../runtime/access/audit.ts';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';

let pb: TestPlatform;

beforeAll(async () => {
  pb = await startTestPlatform({ PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS: '1' });
}, 60_000);

afterAll(async () => {
  await pb?.close();
});

// Sorted by action: two entries written in the same millisecond have no defined order.
const entries = async (key: string) =>
  ((await pb.api(key, 'GET', '/audit-log?per_page=100')).body.data as Array<Record<string, unknown>>)
    .map(({ action, target_type, target_id, changed_fields, actor }) => ({ action, target_type, target_id, changed_fields, actor }))
    .sort((a, b) => String(a.action).localeCompare(String(b.action)));
const byAction = <T extends { action: string }>(list: T[]) => [...list].sort((a, b) => a.action.localeCompare(b.action));

describe('audit recorded by the services', () => {
  it('no handler records audit entries itself', () => {
    const dir = path.join(PROJECT_ROOT, 'runtime', 'api', 'handlers');
    for (const f of fs.readdirSync(dir)) {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      expect(text, f).not.toContain('audit.record');
      expect(text, f).not.toContain('changedFieldNames');
    }
  });

  it('API changes to subscriptions and REST hooks are audited as before (action, target, field names)', async () => {
    const t = await pb.tenant('Audited Hooks');
    const created = await pb.api(t.key, 'POST', '/webhooks/subscriptions', { url: 'http://127.0.0.1:9/in', events: ['payment.*'], description: 'd' });
    expect(created.status, created.text).toBe(201);
    const id = created.body.data.id as string;
    expect((await pb.api(t.key, 'PATCH', `/webhooks/subscriptions/${id}`, { enabled: false })).status).toBe(200);
    expect((await pb.api(t.key, 'POST', `/webhooks/subscriptions/${id}/rotate-secret`)).status).toBe(200);
    expect((await pb.api(t.key, 'DELETE', `/webhooks/subscriptions/${id}`)).status).toBe(200);
    const hook = await pb.api(t.key, 'POST', '/hooks', { target_url: 'http://127.0.0.1:9/zap', event: 'integration.webhook_disabled' });
    expect(hook.status, hook.text).toBe(201);
    expect((await pb.api(t.key, 'DELETE', `/hooks/${hook.body.data.id}`)).status).toBe(200);
    const actor = (await entries(t.key))[0]!.actor;
    expect(actor).toMatch(/^key:/);
    expect(await entries(t.key)).toEqual(byAction([
      { action: 'webhook_subscription.created', target_type: 'webhook_subscription', target_id: id, changed_fields: ['description', 'events', 'url'], actor },
      { action: 'webhook_subscription.updated', target_type: 'webhook_subscription', target_id: id, changed_fields: ['enabled'], actor },
      { action: 'webhook_subscription.secret_rotated', target_type: 'webhook_subscription', target_id: id, changed_fields: ['secret'], actor },
      { action: 'webhook_subscription.deleted', target_type: 'webhook_subscription', target_id: id, changed_fields: [], actor },
      { action: 'rest_hook.created', target_type: 'webhook_subscription', target_id: hook.body.data.id, changed_fields: ['event', 'target_url'], actor },
      { action: 'rest_hook.deleted', target_type: 'webhook_subscription', target_id: hook.body.data.id, changed_fields: [], actor },
    ]));
  });

  it('a caller other than the API (CLI, MCP server) is audited too', async () => {
    const t = await pb.tenant('Audited CLI');
    const { row } = await pb.platform.subscriptions.create(actingAs(t.id, 'cli', 'cli-req-1'), { url: 'http://127.0.0.1:9/cli', events: ['payment.*'] });
    await pb.platform.subscriptions.remove(actingAs(t.id, 'cli'), row.id);
    expect(await entries(t.key)).toEqual(byAction([
      { action: 'webhook_subscription.created', target_type: 'webhook_subscription', target_id: row.id, changed_fields: ['events', 'url'], actor: 'cli' },
      { action: 'webhook_subscription.deleted', target_type: 'webhook_subscription', target_id: row.id, changed_fields: [], actor: 'cli' },
    ]));
  });

  it('when the audit write fails after the change, the change stands, the client gets success and the failure is logged at error', async () => {
    const t = await pb.tenant('Audit Down');
    const append = pb.platform.store.audit.append;
    pb.platform.store.audit.append = async () => {
      throw new Error('SQLITE_BUSY: database is locked');
    };
    let created;
    try {
      created = await pb.api(t.key, 'POST', '/webhooks/subscriptions', { url: 'http://127.0.0.1:9/down', events: ['payment.*'] }, { 'x-request-id': 'audit-down-1' });
    } finally {
      pb.platform.store.audit.append = append;
    }
    expect(created.status, created.text).toBe(201);
    expect(created.body.data.secret).toMatch(/^whsec_/);
    expect((await pb.api(t.key, 'GET', `/webhooks/subscriptions/${created.body.data.id}`)).status).toBe(200);
    const logged = fs.readFileSync(pb.logFile, 'utf8').split('\n').filter((l) => l.includes('audit entry not recorded')).map((l) => JSON.parse(l));
    const line = logged.find((l) => l.audit?.request_id === 'audit-down-1');
    expect(line).toMatchObject({ level: 50, err: expect.stringContaining('SQLITE_BUSY'), audit: { action: 'webhook_subscription.created', target_id: created.body.data.id, changed_fields: ['events', 'url'] } });
    expect(JSON.stringify(line)).not.toContain(created.body.data.secret);
  });
});
