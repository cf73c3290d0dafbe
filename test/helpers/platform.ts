// Starts the whole product in-process on 127.0.0.1:0 with a fresh database (a SQLite file and a
// key file in a temp directory, or with PLUGBOARD_TEST_STORE=postgres a fresh PostgreSQL schema
// and a random PLUGBOARD_MASTER_KEY) and a log file, for integration tests over real HTTP.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { pino } from 'pino';
import { readConfig } from '../../runtime/config/env.ts';
import { createPlatform, type Platform } from '../../runtime/platform/platform.ts';
import { createApp } from '../../runtime/api/app.ts';
import { createTenant } from '../../runtime/tenants/tenants.ts';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';
import { newTestDatabase, type TestStoreKind } from './store.ts';

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export interface TestPlatform {
  url: string;
  dir: string;
  /** sqlite or postgres (PLUGBOARD_TEST_STORE). */
  storeKind: TestStoreKind;
  /** The SQLite file (on PostgreSQL a path that never exists: use dumpDatabase). */
  dbFile: string;
  /** PLUGBOARD_DATABASE_URL (and PLUGBOARD_MASTER_KEY on PostgreSQL), for other processes on the same database. */
  databaseEnv: Record<string, string>;
  /** Everything stored, as text, for secret searches: SQLite's file and WAL, or every row of the PostgreSQL schema. */
  dumpDatabase(): Promise<string>;
  logFile: string;
  platform: Platform;
  /** Every response body the helper saw, for secret searches. */
  responses: string[];
  tenant(name?: string): Promise<{ id: string; key: string }>;
  api(key: string | undefined, method: string, p: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  waitFor<T>(fn: () => Promise<T | undefined | false>, what: string, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

/** A connectors directory with the shipped manifests plus extra ones (name -> YAML text). */
export function connectorsDirWith(extra: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-connectors-'));
  for (const f of fs.readdirSync(path.join(PROJECT_ROOT, 'connectors'))) fs.copyFileSync(path.join(PROJECT_ROOT, 'connectors', f), path.join(dir, f));
  for (const [name, text] of Object.entries(extra)) fs.writeFileSync(path.join(dir, `${name}.yaml`), text);
  return dir;
}

/** The shipped Twilio manifest as a second connector (a second Twilio account, e.g. a backup sender). */
export function secondTwilioManifest(name = 'twilio_secondary'): string {
  const text = fs.readFileSync(path.join(PROJECT_ROOT, 'connectors', 'twilio.yaml'), 'utf8');
  return text.replace(/^name: twilio$/m, `name: ${name}`).replace(/^display_name: Twilio$/m, 'display_name: Twilio (secondary account)');
}

export async function startTestPlatform(env: Record<string, string> = {}): Promise<TestPlatform> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-it-'));
  // A caller naming its own database (a migration test's old SQLite file) keeps it.
  const database = newTestDatabase(dir, env.PLUGBOARD_DATABASE_URL?.startsWith('sqlite:') ? 'sqlite' : undefined);
  const dbFile = database.dbFile;
  const logFile = path.join(dir, 'plugboard.log');
  const fullEnv: NodeJS.ProcessEnv = {
    ...database.env,
    PLUGBOARD_CONNECTORS_DIR: path.join(PROJECT_ROOT, 'connectors'),
    PLUGBOARD_JOBS_POLL_MS: '50',
    LOG_LEVEL: 'debug',
    ...env,
  };
  const config = readConfig(fullEnv);
  const logger = pino({ level: 'debug' }, pino.destination({ dest: logFile, sync: true }));
  let platform: Platform;
  try {
    platform = await createPlatform(config, { logger, env: fullEnv });
  } catch (err) {
    await database.drop().catch(() => undefined);
    throw err;
  }
  const app = await createApp(platform);
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  await platform.startJobs();
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const responses: string[] = [];
  return {
    url,
    dir,
    storeKind: database.kind,
    dbFile,
    databaseEnv: { ...database.env, ...(env.PLUGBOARD_DATABASE_URL ? { PLUGBOARD_DATABASE_URL: env.PLUGBOARD_DATABASE_URL } : {}), ...(env.PLUGBOARD_MASTER_KEY ? { PLUGBOARD_MASTER_KEY: env.PLUGBOARD_MASTER_KEY } : {}) },
    dumpDatabase: () => database.dump(),
    logFile,
    platform,
    responses,
    tenant: async (name = 'Acme') => {
      const t = await createTenant(platform.store, name);
      return { id: t.tenant_id, key: t.api_key };
    },
    api: async (key, method, p, body, headers = {}) => {
      const root = /^\/(api\/|healthz|readyz|metrics|openapi\.json|docs)/.test(p);
      const res = await fetch(`${url}${root ? '' : '/api/v1'}${p}`, {
        method,
        headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      responses.push(text);
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, headers: res.headers, body: parsed, text };
    },
    waitFor: async (fn, what, timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = await fn();
        if (v) return v as never;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      try {
        await platform.close();
      } finally {
        await database.drop();
      }
    },
  };
}
