// Starts the whole product in-process on 127.0.0.1:0 with a fresh SQLite file, a key file and a
// log file in a temp directory, for integration tests over real HTTP.
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

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export interface TestPlatform {
  url: string;
  dir: string;
  dbFile: string;
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
  const dbFile = path.join(dir, 'plugboard.db');
  const logFile = path.join(dir, 'plugboard.log');
  const fullEnv: NodeJS.ProcessEnv = {
    PLUGBOARD_DATABASE_URL: `sqlite:${dbFile}`,
    PLUGBOARD_CONNECTORS_DIR: path.join(PROJECT_ROOT, 'connectors'),
    PLUGBOARD_JOBS_POLL_MS: '50',
    LOG_LEVEL: 'debug',
    ...env,
  };
  const config = readConfig(fullEnv);
  const logger = pino({ level: 'debug' }, pino.destination({ dest: logFile, sync: true }));
  const platform = await createPlatform(config, { logger, env: fullEnv });
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
    dbFile,
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
      await platform.close();
    },
  };
}
