import type { Command } from '../command.ts';
import { CliError } from '../command.ts';
import { readConfig } from '../../config/env.ts';
import { openStore, sqlitePathFromUrl } from '../../store/index.ts';
import { createTenant } from '../../tenants/tenants.ts';
import { Keyring } from '../../crypto/keyring.ts';
import { CredentialCipher } from '../../crypto/envelope.ts';
import path from 'node:path';

export const tenantsCommand: Command = {
  name: 'tenants',
  usage: 'tenants create <name>',
  summary: 'create a tenant and print its first admin API key (once)',
  help: `Usage: plugboard tenants create <name>

Creates a tenant and prints {"tenant_id": ..., "api_key": ...}. The key has the admin scope and is
shown only this once: only its hash is stored.`,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub !== 'create' || rest.length !== 1) throw new CliError('usage: plugboard tenants create <name>');
    const store = await openStore(readConfig().databaseUrl);
    try {
      console.log(JSON.stringify(await createTenant(store, rest[0]!)));
    } catch (err) {
      throw new CliError((err as Error).message);
    } finally {
      await store.close();
    }
    return 0;
  },
};

export const migrateCommand: Command = {
  name: 'migrate',
  usage: 'migrate',
  summary: 'create or upgrade the database schema (also done on start)',
  help: 'Usage: plugboard migrate\n\nApplies pending migrations to PLUGBOARD_DATABASE_URL and exits.',
  async run() {
    const store = await openStore(readConfig().databaseUrl);
    await store.close();
    console.log('database schema is up to date');
    return 0;
  },
};

export const keysCommand: Command = {
  name: 'keys',
  usage: 'keys rotate-master [--prune]',
  summary: 're-wrap every credentials data key with a new master key',
  help: `Usage: plugboard keys rotate-master [--prune]

With the key file (default data/master.key): generates a new master key and re-wraps every
integration's data key with it. Old keys stay in the file for reading (running servers switch to
the new key within seconds); --prune then drops keys no data key uses any more.
With PLUGBOARD_MASTER_KEY: first give every process "NEWKEY,OLDKEY" (new first, both readable),
then run this command to re-wrap everything with NEWKEY, then drop OLDKEY from the variable.`,
  async run(args) {
    const prune = args.includes('--prune');
    if (args[0] !== 'rotate-master' || args.length !== (prune ? 2 : 1)) throw new CliError('usage: plugboard keys rotate-master [--prune]');
    const config = readConfig();
    const store = await openStore(config.databaseUrl);
    try {
      const keyFile = process.env.PLUGBOARD_MASTER_KEY_FILE || path.join(path.dirname(sqlitePathFromUrl(config.databaseUrl) ?? path.resolve('data/plugboard.db')), 'master.key');
      const keyring = Keyring.fromEnvOrFile(process.env, keyFile);
      const active = keyring.source.kind === 'file' ? keyring.addActiveKey() : keyring.active;
      const cipher = new CredentialCipher(keyring);
      const rows = await store.integrations.allKeyMaterial();
      const todo = rows.filter((r) => r.master_key_id !== active.id);
      // Batches: each is one short transaction, so servers keep reading and writing meanwhile.
      for (let i = 0; i < todo.length; i += 500) {
        await store.integrations.rewrapKeys(todo.slice(i, i + 500).map((r) => ({ id: r.id, tenant_id: r.tenant_id, ...cipher.rewrap(r.tenant_id, r.id, r.data_key_wrapped, r.master_key_id) })));
      }
      if (prune) keyring.retainOnly(new Set((await store.integrations.allKeyMaterial()).map((r) => r.master_key_id)));
      console.log(JSON.stringify({ master_key_id: active.id, rewrapped: todo.length, integrations: rows.length }));
    } catch (err) {
      throw new CliError(`rotate-master failed: ${(err as Error).message}`);
    } finally {
      await store.close();
    }
    return 0;
  },
};
