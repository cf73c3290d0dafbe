import type { Command } from '../command.ts';
import { CliError } from '../command.ts';
import { readConfig } from '../../config/env.ts';
import { openStore, type MigrationReport } from '../../store/index.ts';
import { createTenant } from '../../tenants/tenants.ts';
import { openKeyring, checkMasterKey, recordMasterKey } from '../../platform/master-key.ts';
import { CredentialCipher } from '../../crypto/envelope.ts';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PLAN_LIMITS } from '../../access/rate-limits.ts';

export const tenantsCommand: Command = {
  name: 'tenants',
  usage: 'tenants create <name> | tenants limits <id>',
  summary: 'create a tenant (prints its admin API key once); set its rate limits',
  help: `Usage: plugboard tenants create <name> [--plan basic|professional|enterprise]
       plugboard tenants limits <tenant_id> (--plan NAME | --per-hour N --burst N [--burst-window S] | --reset)

create: makes a tenant and prints {"tenant_id": ..., "api_key": ...}. The key has the admin scope
and is shown only this once: only its hash is stored.
limits: changes the tenant's API rate limits: a plan tier (basic 1,000/h burst 100; professional
10,000/h burst 500; enterprise 100,000/h burst 2,000; burst per 60 s) or custom numbers.
Running servers apply it within 30 s. Requests already made in the current hour and burst window
keep counting against the new numbers (a lower limit may bind at once; a new --burst-window
starts its burst count afresh).`,
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { plan: { type: 'string' }, 'per-hour': { type: 'string' }, burst: { type: 'string' }, 'burst-window': { type: 'string' }, reset: { type: 'boolean' } } });
    const [sub, arg] = positionals;
    if (!((sub === 'create' || sub === 'limits') && arg && positionals.length === 2)) throw new CliError('usage: plugboard tenants create <name> | plugboard tenants limits <tenant_id> ... (see --help)');
    if (values.plan && !(values.plan in PLAN_LIMITS)) throw new CliError(`--plan must be one of ${Object.keys(PLAN_LIMITS).join(', ')}`);
    const store = await openStore(readConfig().databaseUrl);
    try {
      if (sub === 'create') {
        console.log(JSON.stringify(await createTenant(store, arg, values.plan ?? 'basic')));
        return 0;
      }
      if (!(await store.tenants.get(arg))) throw new CliError(`no tenant ${arg}`);
      const num = (v: string | undefined, name: string) => {
        if (v === undefined) throw new CliError(`--${name} is required (give --per-hour and --burst together)`);
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new CliError(`--${name} must be a positive integer`);
        return n;
      };
      const patch = values.reset
        ? { rate_limits: null }
        : values['per-hour'] || values.burst
          ? { rate_limits: { per_hour: num(values['per-hour'], 'per-hour'), burst: num(values.burst, 'burst'), burst_window_seconds: values['burst-window'] ? num(values['burst-window'], 'burst-window') : 60 } }
          : values.plan
            ? { plan: values.plan, rate_limits: null }
            : undefined;
      if (!patch) throw new CliError('give --plan, --per-hour and --burst, or --reset');
      const t = await store.tenants.update(arg, patch);
      console.log(JSON.stringify({ tenant_id: t!.id, plan: t!.plan, rate_limits: t!.rate_limits ?? PLAN_LIMITS[t!.plan] }));
    } catch (err) {
      if (err instanceof CliError) throw err;
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
  help: 'Usage: plugboard migrate\n\nCreates the database of PLUGBOARD_DATABASE_URL if it does not exist, applies pending\nmigrations, prints what it did and exits.',
  async run() {
    let report: MigrationReport | undefined;
    const store = await openStore(readConfig().databaseUrl, { onMigrated: (r) => (report = r) });
    await store.close();
    const db = report ? path.relative(process.cwd(), report.database) || report.database : 'the database';
    if (!report || report.from === report.to) console.log(`${db}: schema is up to date (version ${report?.to ?? '?'})`);
    else if (report.from === 0) console.log(`${db}: created, schema version ${report.to}`);
    else console.log(`${db}: upgraded schema from version ${report.from} to ${report.to}`);
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
then run this command to re-wrap everything with NEWKEY, then drop OLDKEY from the variable.
The database records the new key's fingerprint: from then on a process whose keys do not include
the new key refuses to start. With PostgreSQL, PLUGBOARD_MASTER_KEY is required (no key file).`,
  async run(args) {
    const prune = args.includes('--prune');
    if (args[0] !== 'rotate-master' || args.length !== (prune ? 2 : 1)) throw new CliError('usage: plugboard keys rotate-master [--prune]');
    const config = readConfig();
    // With PostgreSQL the key must come from PLUGBOARD_MASTER_KEY; and the keys given must hold the
    // one the database expects, or the rotation would re-wrap nothing it can open.
    const keyring = openKeyring(config.databaseUrl, process.env);
    const store = await openStore(config.databaseUrl);
    try {
      await checkMasterKey(store, keyring);
      const active = keyring.source.kind === 'file' ? keyring.addActiveKey() : keyring.active;
      const cipher = new CredentialCipher(keyring);
      // Integrations' credentials and webhook subscriptions' secrets: every sealed data key.
      let rows: Awaited<ReturnType<typeof store.sealedKeys.all>> = [];
      let rewrapped = 0;
      const rewrapAll = async () => {
        rows = await store.sealedKeys.all();
        for (let round = 0; round < 5; round++) {
          const todo = rows.filter((r) => r.master_key_id !== active.id);
          if (!todo.length) break;
          // Batches of short transactions, compare-and-swap per row: servers keep reading and writing,
          // and a row resealed meanwhile (new credentials) is simply picked up by the next round.
          for (let i = 0; i < todo.length; i += 500) {
            rewrapped += await store.sealedKeys.rewrap(
              todo.slice(i, i + 500).map((r) => ({ ...r, ...cipher.rewrap(r.tenant_id, r.id, r.data_key_wrapped, r.master_key_id), old_data_key_wrapped: r.data_key_wrapped, old_master_key_id: r.master_key_id })),
            );
          }
          rows = await store.sealedKeys.all();
        }
      };
      await rewrapAll();
      // From now on a process must hold the new key to start (old keys stay readable beside it).
      await recordMasterKey(store, keyring);
      if (prune && keyring.source.kind === 'file') {
        // Running servers switch to the new active key within 5 s; until then they may still seal
        // with an old one. Wait that out and sweep again before any old key is dropped.
        await new Promise((r) => setTimeout(r, 6000));
        await rewrapAll();
      }
      const left = rows.filter((r) => r.master_key_id !== active.id).length;
      if (prune && !left) keyring.retainOnly(new Set(rows.map((r) => r.master_key_id)));
      console.log(JSON.stringify({ master_key_id: active.id, rewrapped, sealed_secrets: rows.length, still_on_old_keys: left }));
      if (left) throw new CliError(`${left} secret(s) changed during rotation and still use an old key: run keys rotate-master again`);
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError(`rotate-master failed: ${(err as Error).message}`);
    } finally {
      await store.close();
    }
    return 0;
  },
};
