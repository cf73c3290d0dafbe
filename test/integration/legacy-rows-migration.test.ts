// Upgrading databases written by older versions: rejected inbound requests stored one row each
// become counters plus the bounded sample, and idempotency keys used up by a stored 409
// no_active_provider answer are freed (the new code never stores that answer).
import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID, createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { SQLITE_MIGRATIONS } from '../../runtime/store/sqlite/migrations.ts';
import { SqliteStore } from '../../runtime/store/sqlite/store.ts';
import { REJECTION_SAMPLES_PER_INTEGRATION } from '../../runtime/webhooks/inbound-rejections.ts';
import { createApiKey } from '../../runtime/access/api-keys.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

/** The first migration that knows about the rows older versions left behind. */
const MIGRATION = SQLITE_MIGRATIONS.findIndex((m) => m.includes('INSERT INTO inbound_rejections'));

let pb: TestPlatform | undefined;
afterAll(async () => pb?.close());

function databaseBefore(file: string): Database.Database {
  const db = new Database(file);
  for (let v = 0; v < MIGRATION; v++) db.exec(SQLITE_MIGRATIONS[v]!);
  db.pragma(`user_version = ${MIGRATION}`);
  return db;
}

const newId = () => randomUUID();
const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();

describe('migrating rows written by older versions', () => {
  it('turns rejected inbound rows into counters and keeps only the newest sample per integration', async () => {
    expect(MIGRATION).toBeGreaterThan(0);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pb-legacy-')), 'plugboard.db');
    const db = databaseBefore(file);
    const tenant = newId();
    const [a, b, c] = [newId(), newId(), newId()];
    const ins = db.prepare(`INSERT INTO inbound_events (id, tenant_id, integration_id, provider, status, reason, content_type, body, attempts, received_at)
      VALUES (?, ?, ?, ?, ?, ?, 'application/json', ?, 0, ?)`);
    db.transaction(() => {
      // The old shape: one row per forged request, reason "<code>: <reason>".
      for (let i = 0; i < 3000; i++) ins.run(newId(), tenant, a, 'stripe', 'rejected', i % 3 ? `missing_signature: no Stripe-Signature header #${i}` : `signature_mismatch: no v1 signature matches #${i}`, '', at(i * 1000));
      for (let i = 0; i < 25; i++) ins.run(newId(), tenant, b, 'twilio', 'rejected', `signature_mismatch: X-Twilio-Signature does not match #${i}`, '', at(i * 1000));
      // Accepted events are never touched.
      for (let i = 0; i < 5; i++) ins.run(newId(), tenant, a, 'stripe', 'processed', null, '{"id":"evt"}', at(i));
      // An integration already counted by the new code: its counter (since T) includes its samples;
      // only the 7 older rows are added.
      for (let i = 0; i < 7; i++) ins.run(newId(), tenant, c, 'stripe', 'rejected', `missing_signature: old #${i}`, '', at(i * 1000));
      for (let i = 0; i < 4; i++) ins.run(newId(), tenant, c, 'stripe', 'rejected', `missing_signature: new #${i}`, '', at(100_000 + i * 1000));
      db.prepare(`INSERT INTO inbound_rejections (tenant_id, integration_id, provider, code, count, first_at, last_at, last_reason) VALUES (?, ?, 'stripe', 'missing_signature', 50, ?, ?, 'new #3')`)
        .run(tenant, c, at(100_000), at(103_000));
    })();
    db.close();

    const store = new SqliteStore(file);
    await store.migrate();
    const counts = store.db.prepare('SELECT integration_id, code, count, first_at, last_at, last_reason, provider FROM inbound_rejections ORDER BY integration_id, code').all() as any[];
    const byKey = Object.fromEntries(counts.map((r) => [`${r.integration_id}/${r.code}`, r]));
    expect(byKey[`${a}/missing_signature`]).toMatchObject({ count: 2000, provider: 'stripe', first_at: at(1000), last_at: at(2999_000), last_reason: 'no Stripe-Signature header #2999' });
    expect(byKey[`${a}/signature_mismatch`]).toMatchObject({ count: 1000, first_at: at(0), last_at: at(2997_000), last_reason: 'no v1 signature matches #2997' });
    expect(byKey[`${b}/signature_mismatch`]).toMatchObject({ count: 25, provider: 'twilio', last_reason: 'X-Twilio-Signature does not match #24' });
    expect(byKey[`${c}/missing_signature`]).toMatchObject({ count: 57, first_at: at(0), last_at: at(103_000), last_reason: 'new #3' });
    expect(counts).toHaveLength(4);

    const left = (id: string, status = 'rejected') => (store.db.prepare('SELECT COUNT(*) AS n FROM inbound_events WHERE integration_id = ? AND status = ?').get(id, status) as { n: number }).n;
    expect(left(a)).toBe(REJECTION_SAMPLES_PER_INTEGRATION);
    expect(left(b)).toBe(REJECTION_SAMPLES_PER_INTEGRATION);
    expect(left(c)).toBe(11);
    expect(left(a, 'processed')).toBe(5);
    // the newest are the ones kept
    const oldest = store.db.prepare(`SELECT MIN(received_at) AS t FROM inbound_events WHERE integration_id = ? AND status = 'rejected'`).get(a) as { t: string };
    expect(oldest.t).toBe(at((3000 - REJECTION_SAMPLES_PER_INTEGRATION) * 1000));
    await store.close();
  });

  it('frees idempotency keys used up by a stored 409 no_active_provider answer', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pb-legacy-')), 'plugboard.db');
    const db = databaseBefore(file);
    const tenant = newId();
    const now = new Date().toISOString();
    db.prepare('INSERT INTO tenants (id, name, plan, created_at) VALUES (?, ?, ?, ?)').run(tenant, 'Legacy', 'basic', now);
    const hash = createHash('sha256').update(`{"capability":"send_sms","input":{"body":"hi","to":"+14155550123"},"integration_id":null}`).digest('hex');
    const op = db.prepare(`INSERT INTO operations (id, tenant_id, capability, idempotency_key, request_hash, status, http_status, response, created_at, updated_at) VALUES (?, ?, 'send_sms', ?, ?, 'failed', ?, ?, ?, ?)`);
    const noProvider = { success: false, message: 'No active integration can run send_sms.', code: 'no_active_provider', errors: { capability: ['no active integration is routed for this capability'] } };
    op.run(newId(), tenant, 'legacy-409', hash, 409, JSON.stringify(noProvider), now, now);
    const failed = { success: false, message: 'The operation failed: Twilio answered 500', code: 'provider_error', operation_id: newId(), deliveries: [] };
    op.run(failed.operation_id, tenant, 'legacy-502', hash, 502, JSON.stringify(failed), now, now);
    db.close();

    pb = await startTestPlatform({ PLUGBOARD_DATABASE_URL: `sqlite:${file}` });
    const { key } = await createApiKey(pb.platform.store, tenant, { name: 'test', scopes: ['admin', 'read', 'write', 'delete'] });
    const send = (k: string) => pb!.api(key, 'POST', '/operations/send_sms', { input: { to: '+14155550123', body: 'hi' }, idempotency_key: k });
    // Still no provider: the new code answers 409 without storing it...
    const first = await send('legacy-409');
    expect(first.status, first.text).toBe(409);
    expect(first.body.code).toBe('no_active_provider');
    // ...and the key is free: nothing for it is stored any more.
    expect(await pb.platform.store.operations.findByKey(tenant, 'legacy-409')).toBeUndefined();
    // A stored provider failure still answers as then.
    const kept = await send('legacy-502');
    expect(kept.status).toBe(502);
    expect(kept.body).toMatchObject({ success: false, code: 'provider_error', operation_id: failed.operation_id });
  });
});
