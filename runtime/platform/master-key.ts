// Which master keys a process holds, and whether they fit the database (DESIGN §4, §10 "Keys across
// machines"). The database records the fingerprint of the master key it was set up with (the key
// id: a one-way hash of the key, already public as the `kid` of access tokens); a process whose
// keys do not include it refuses to start instead of sealing new secrets under a key the other
// processes cannot open.
import path from 'node:path';
import { ConfigError } from '../errors/plugboard-error.ts';
import { Keyring } from '../crypto/keyring.ts';
import { sqlitePathFromUrl } from '../store/index.ts';
import type { Store } from '../store/types.ts';

/** The settings key of the active master key's fingerprint. */
export const MASTER_KEY_FINGERPRINT = 'master_key_fingerprint';

export const isPostgresUrl = (url: string): boolean => /^postgres(ql)?:\/\//i.test(url);

/**
 * The master keys for a database: PLUGBOARD_MASTER_KEY, else (SQLite only) the key file
 * (PLUGBOARD_MASTER_KEY_FILE, default master.key beside the database file, created on first start).
 * PostgreSQL is shared by processes on several machines, so there a local key file would split the
 * deployment into processes that cannot read each other's secrets: the variable is required.
 */
export function openKeyring(databaseUrl: string, env: NodeJS.ProcessEnv): Keyring {
  if (isPostgresUrl(databaseUrl) && !env.PLUGBOARD_MASTER_KEY) {
    throw new ConfigError(
      'PLUGBOARD_MASTER_KEY is required with a PostgreSQL PLUGBOARD_DATABASE_URL: every process on every machine must hold the same master key, so no key file is created (make one with: openssl rand -base64 32)',
    );
  }
  const keyFile = env.PLUGBOARD_MASTER_KEY_FILE || path.join(path.dirname(sqlitePathFromUrl(databaseUrl) ?? path.resolve('data/plugboard.db')), 'master.key');
  return Keyring.fromEnvOrFile(env, keyFile);
}

function whereKeysCameFrom(keyring: Keyring): string {
  return keyring.source.kind === 'env' ? 'PLUGBOARD_MASTER_KEY' : `the master key file ${keyring.source.file} (set PLUGBOARD_MASTER_KEY or PLUGBOARD_MASTER_KEY_FILE)`;
}

/**
 * Start-up check: records the active key's fingerprint when the database has none yet (the first
 * start, or a database older than this check), and refuses a keyring that holds no key with the
 * recorded fingerprint. A keyring that holds it as an older key ("NEWKEY,OLDKEY" before
 * `keys rotate-master` has run) is fine.
 */
export async function checkMasterKey(store: Store, keyring: Keyring): Promise<void> {
  let recorded = await store.settings.get(MASTER_KEY_FINGERPRINT);
  if (recorded === undefined) {
    // A database from before fingerprints (or a new one): secrets already sealed name the keys they
    // need, so a process missing one of them must not record its own key and lock the right one out.
    const used = [...new Set((await store.sealedKeys.all()).map((r) => r.master_key_id))];
    const missing = used.filter((id) => !keyring.find(id));
    if (missing.length) {
      throw new ConfigError(
        `PLUGBOARD_MASTER_KEY: ${whereKeysCameFrom(keyring)} does not hold the master key this database's credentials are sealed with (fingerprint ${missing.join(', ')}; this process has ${keyring.ids().join(', ')})`,
      );
    }
    recorded = await store.settings.putIfAbsent(MASTER_KEY_FINGERPRINT, keyring.active.id);
  }
  if (keyring.find(recorded)) return;
  throw new ConfigError(
    `PLUGBOARD_MASTER_KEY: ${whereKeysCameFrom(keyring)} does not hold this database's master key (fingerprint ${recorded}; this process has ${keyring.ids().join(', ')}): start every process with the same master key (during a rotation "NEWKEY,OLDKEY")`,
  );
}

/** After `keys rotate-master`: the new active key is the one the database now expects. */
export async function recordMasterKey(store: Store, keyring: Keyring): Promise<void> {
  await store.settings.put(MASTER_KEY_FINGERPRINT, keyring.active.id);
}
