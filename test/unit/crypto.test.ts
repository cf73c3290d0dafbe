import { describe, it, expect, vi } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Keyring, KeyringError } from '../../runtime/crypto/keyring.ts';
import { CredentialCipher } from '../../runtime/crypto/envelope.ts';
import { openStore } from '../../runtime/store/index.ts';
import { createTenant } from '../../runtime/tenants/tenants.ts';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';
import { SubscriptionService } from '../../runtime/webhooks/subscriptions.ts';
import { AuditLog, actingAs } from '../../runtime/access/audit.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'pb-crypto-'));

describe('master keyring', () => {
  it('creates a key file with mode 0600 on first start and reuses it', () => {
    const file = path.join(tmp(), 'sub', 'master.key');
    const a = Keyring.fromEnvOrFile({}, file);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const b = Keyring.fromEnvOrFile({}, file);
    expect(b.active.id).toBe(a.active.id);
  });

  it('refuses a key file others can read, and bad PLUGBOARD_MASTER_KEY values, naming them', () => {
    const file = path.join(tmp(), 'master.key');
    Keyring.fromEnvOrFile({}, file);
    fs.chmodSync(file, 0o644);
    expect(() => Keyring.fromEnvOrFile({}, file)).toThrow(/readable by others/);
    expect(() => Keyring.fromEnvOrFile({ PLUGBOARD_MASTER_KEY: 'c2hvcnQ=' }, file)).toThrow(KeyringError);
    expect(() => Keyring.fromEnvOrFile({ PLUGBOARD_MASTER_KEY: 'c2hvcnQ=' }, file)).toThrow(/PLUGBOARD_MASTER_KEY/);
  });

  it('takes several env keys, the first active, all readable', () => {
    const k1 = randomBytes(32).toString('base64');
    const k2 = randomBytes(32).toString('hex');
    const old = new CredentialCipher(Keyring.fromEnvOrFile({ PLUGBOARD_MASTER_KEY: k2 }, '/nonexistent'));
    const sealed = old.seal('t', 'i', { token: 'abc' });
    const both = Keyring.fromEnvOrFile({ PLUGBOARD_MASTER_KEY: `${k1},${k2}` }, '/nonexistent');
    const cipher = new CredentialCipher(both);
    expect(cipher.open('t', 'i', sealed)).toEqual({ token: 'abc' });
    expect(cipher.seal('t', 'i', {}).master_key_id).toBe(both.active.id);
    expect(both.active.id).not.toBe(sealed.master_key_id);
  });
});

describe('envelope encryption', () => {
  const cipher = new CredentialCipher(Keyring.fromEnvOrFile({ PLUGBOARD_MASTER_KEY: randomBytes(32).toString('base64') }, '/nonexistent'));

  it('round-trips and never contains the plaintext', () => {
    const sealed = cipher.seal('tenant1', 'int1', { secret_key: 'sk_test_plaintextvalue' });
    expect(sealed.credentials_sealed.includes(Buffer.from('sk_test_plaintextvalue'))).toBe(false);
    expect(cipher.open('tenant1', 'int1', sealed)).toEqual({ secret_key: 'sk_test_plaintextvalue' });
  });

  it('uses a fresh data key and IV each time', () => {
    const a = cipher.seal('t', 'i', { x: 1 });
    const b = cipher.seal('t', 'i', { x: 1 });
    expect(a.credentials_sealed.equals(b.credentials_sealed)).toBe(false);
    expect(a.data_key_wrapped.equals(b.data_key_wrapped)).toBe(false);
  });

  it('refuses a blob moved to another integration or tenant, or tampered with', () => {
    const sealed = cipher.seal('tenant1', 'int1', { k: 'v' });
    expect(() => cipher.open('tenant1', 'int2', sealed)).toThrow();
    expect(() => cipher.open('tenant2', 'int1', sealed)).toThrow();
    const tampered = Buffer.from(sealed.credentials_sealed);
    tampered[tampered.length - 1] ^= 1;
    expect(() => cipher.open('tenant1', 'int1', { ...sealed, credentials_sealed: tampered })).toThrow();
  });
});

describe('plugboard keys rotate-master', () => {
  it('re-wraps every data key with a new master key and keeps credentials readable', async () => {
    const dir = tmp();
    const env: NodeJS.ProcessEnv = { ...process.env, PLUGBOARD_DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}` };
    delete env.PLUGBOARD_MASTER_KEY;
    const store = await openStore(env.PLUGBOARD_DATABASE_URL);
    const keyFile = path.join(dir, 'master.key');
    const before = Keyring.fromEnvOrFile({}, keyFile);
    const beforeId = before.active.id; // (a file keyring notices a rotation after 5 s: remember the id now)
    const cipher = new CredentialCipher(before);
    const { tenant_id } = await createTenant(store, 'Rotate');
    const now = new Date().toISOString();
    for (const id of ['01aaaaaaaaaaaaaaaaaaaaaaaa', '01bbbbbbbbbbbbbbbbbbbbbbbb']) {
      await store.integrations.create({ id, tenant_id, provider: id === '01aaaaaaaaaaaaaaaaaaaaaaaa' ? 'stripe' : 'twilio', status: 'active', enabled_capabilities: [], environment: null, metadata: {}, system_metadata: {}, credentials_public: {}, ...cipher.seal(tenant_id, id, { secret: `value-${id}` }), credentials_version: 1, verified_at: now, created_at: now, updated_at: now, deleted_at: null });
    }
    const subs = new SubscriptionService(store, cipher, () => ({ allowHttp: true, allowPrivate: true }), new AuditLog(store));
    const { row: sub, secret: whsec } = await subs.create(actingAs(tenant_id, 'test'), { url: 'https://hooks.example.com/in', events: ['payment.*'] });
    await store.close();

    const out = spawnSync(path.join(PROJECT_ROOT, 'bin', 'plugboard'), ['keys', 'rotate-master', '--prune'], { env, encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    const report = JSON.parse(out.stdout) as { master_key_id: string; rewrapped: number };
    expect(report.rewrapped).toBe(3); // two integrations and one webhook subscription
    expect(report.master_key_id).not.toBe(beforeId);

    const after = Keyring.fromEnvOrFile({}, keyFile);
    expect(after.ids()).toEqual([report.master_key_id]); // --prune dropped the old, now unused key
    const store2 = await openStore(env.PLUGBOARD_DATABASE_URL);
    const c2 = new CredentialCipher(after);
    for (const id of ['01aaaaaaaaaaaaaaaaaaaaaaaa', '01bbbbbbbbbbbbbbbbbbbbbbbb']) {
      const row = (await store2.integrations.get(tenant_id, id))!;
      expect(row.master_key_id).toBe(report.master_key_id);
      expect(c2.open(tenant_id, id, row)).toEqual({ secret: `value-${id}` });
    }
    const subAfter = (await store2.webhookSubscriptions.get(tenant_id, sub.id))!;
    expect(subAfter.master_key_id).toBe(report.master_key_id);
    expect(new SubscriptionService(store2, c2, () => ({ allowHttp: true, allowPrivate: true }), new AuditLog(store2)).signingSecrets(subAfter)).toEqual([whsec]);
    // A process that still holds the old keyring re-reads the file when it meets the new key id.
    // (Without --prune the old key stays in the file: see the next test.)
    const row = (await store2.integrations.get(tenant_id, '01aaaaaaaaaaaaaaaaaaaaaaaa'))!;
    expect(new CredentialCipher(before).open(tenant_id, row.id, row)).toEqual({ secret: 'value-01aaaaaaaaaaaaaaaaaaaaaaaa' });
    await store2.close();
  });

  it('keeps the old key without --prune, so servers that have not switched yet can still be read', async () => {
    const dir = tmp();
    const env: NodeJS.ProcessEnv = { ...process.env, PLUGBOARD_DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}` };
    delete env.PLUGBOARD_MASTER_KEY;
    const first = Keyring.fromEnvOrFile({}, path.join(dir, 'master.key'));
    // Remember the id before rotating: `active` of a file keyring re-reads the file once 5 s have
    // passed and then answers with the new key. On a busy machine the command alone takes that long
    // (reading `first.active.id` after it made this test fail now and then).
    const oldId = first.active.id;
    const out = spawnSync(path.join(PROJECT_ROOT, 'bin', 'plugboard'), ['keys', 'rotate-master'], { env, encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    const ids = Keyring.fromEnvOrFile({}, path.join(dir, 'master.key')).ids();
    expect(ids).toHaveLength(2);
    expect(ids[1]).toBe(oldId);
    expect(ids[0]).toBe((JSON.parse(out.stdout) as { master_key_id: string }).master_key_id);
    // However long the command took: a keyring that existed before switches to the new key once
    // its re-read is due, and keeps reading the old one.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 6000 });
    try {
      expect(first.active.id).toBe(ids[0]);
      expect(first.find(oldId)?.id).toBe(oldId);
    } finally {
      vi.useRealTimers();
    }
  });
});
