// Upgrading a database made before `environment` and `system_metadata` existed: keys the system
// wrote into metadata move apart, and metadata.environment becomes the environment field only
// where it named one of the manifest's environments (decided at start-up, from the manifests).
import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SQLITE_MIGRATIONS } from '../../runtime/store/sqlite/migrations.ts';
import { createApiKey } from '../../runtime/access/api-keys.ts';
import { newId } from '../../runtime/store/ids.ts';
import { randomBytes } from 'node:crypto';
import { keyId } from '../../runtime/crypto/keyring.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

const MIGRATION = SQLITE_MIGRATIONS.findIndex((m) => m.includes('integration_environment_backfill'));

let pb: TestPlatform | undefined;
afterAll(async () => pb?.close());

/** A database at the schema version just before the migration, with integrations as older versions wrote them. */
// Rows name the master key they were sealed with: start-up refuses a key that cannot open them.
const MASTER_KEY = randomBytes(32).toString('base64');

function legacyDatabase(file: string, tenantId: string, rows: Array<{ id: string; provider: string; metadata: Record<string, unknown> }>): void {
  const db = new Database(file);
  for (let v = 0; v < MIGRATION; v++) db.exec(SQLITE_MIGRATIONS[v]!);
  db.pragma(`user_version = ${MIGRATION}`);
  const now = new Date().toISOString();
  db.prepare('INSERT INTO tenants (id, name, plan, created_at) VALUES (?, ?, ?, ?)').run(tenantId, 'Legacy', 'basic', now);
  const ins = db.prepare(`INSERT INTO integrations (id, tenant_id, provider, status, enabled_capabilities, metadata, credentials_public, credentials_sealed, data_key_wrapped, master_key_id, credentials_version, verified_at, created_at, updated_at)
    VALUES (?, ?, ?, 'inactive', '[]', ?, '{}', x'00', x'00', ?, 1, NULL, ?, ?)`);
  for (const r of rows) ins.run(r.id, tenantId, r.provider, JSON.stringify(r.metadata), keyId(Buffer.from(MASTER_KEY, 'base64')), now, now);
  db.close();
}

describe('migrating integrations to environment and system metadata', () => {
  it('moves system keys and environments that the manifest knows, once', async () => {
    expect(MIGRATION).toBeGreaterThan(0);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-legacy-'));
    const file = path.join(dir, 'plugboard.db');
    const tenantId = newId();
    const plaid = newId();
    const stripe = newId();
    const sendgrid = newId();
    legacyDatabase(file, tenantId, [
      { id: plaid, provider: 'plaid', metadata: { environment: 'sandbox', label: 'bank', verification_error: 'Plaid answered 400', verification_error_type: 'invalid_input', flags: { a: true, b: [1, null] } } },
      // The seed's example: Stripe has no environments, so this is the tenant's own data and stays.
      { id: stripe, provider: 'stripe', metadata: { environment: 'production', verification: 'skipped: the connector declares no verify request' } },
      // Not one of SendGrid's environments (global, eu): stays in metadata.
      { id: sendgrid, provider: 'sendgrid', metadata: { environment: 'staging' } },
    ]);

    pb = await startTestPlatform({ PLUGBOARD_DATABASE_URL: `sqlite:${file}`, PLUGBOARD_MASTER_KEY: MASTER_KEY });
    const { key } = await createApiKey(pb.platform.store, tenantId, { name: 'test', scopes: ['admin', 'read', 'write', 'delete'] });
    const get = async (id: string) => (await pb!.api(key, 'GET', `/integrations/${id}`)).body.data;

    expect(await get(plaid)).toMatchObject({ environment: 'sandbox', metadata: { label: 'bank', verification_error: 'Plaid answered 400', verification_error_type: 'invalid_input', flags: { a: true, b: [1, null] } } });
    expect((await get(plaid)).metadata.environment).toBeUndefined();
    expect(await get(stripe)).toMatchObject({ environment: null, metadata: { environment: 'production', verification: 'skipped: the connector declares no verify request' } });
    expect(await get(sendgrid)).toMatchObject({ environment: null, metadata: { environment: 'staging' } });

    // Stored apart: the tenant's metadata holds only the tenant's keys.
    const rows = await pb.platform.store.integrations.list(tenantId, { page: 1, perPage: 10 });
    const byId = Object.fromEntries(rows.items.map((r) => [r.id, r]));
    expect(byId[plaid]!.metadata).toEqual({ label: 'bank', flags: { a: true, b: [1, null] } });
    expect(byId[plaid]!.system_metadata).toEqual({ verification_error: 'Plaid answered 400', verification_error_type: 'invalid_input' });
    expect(byId[stripe]!.system_metadata).toEqual({ verification: 'skipped: the connector declares no verify request' });

    // The tenant may now use those keys freely: a metadata.environment written later is never adopted.
    const patched = await pb.api(key, 'PATCH', `/integrations/${sendgrid}`, { metadata: { environment: 'eu' } });
    expect(patched.status, patched.text).toBe(200);
    expect(await pb.platform.integrations.adoptLegacyEnvironments()).toBe(0);
    expect(await get(sendgrid)).toMatchObject({ environment: null, metadata: { environment: 'eu' } });
  });
});
