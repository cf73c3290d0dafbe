// Honest baselines (issue 13, item 1): hand-written code doing the same essential work as Plugboard
// on each measured path, in the same run, on the same database kind. Each is the code a careful
// developer would write by hand for one provider, without a framework on top of Express:
//   - list:      check the API key (SHA-256 of the bearer token looked up in api_keys), read the
//                tenant's integration rows and their count from Plugboard's own database, map them to
//                the view and answer the same envelope;
//   - operation: check the key the same way, call the loopback provider with undici, insert one
//                delivery row, answer the same envelope;
//   - inbound:   verify the Slack HMAC (v0:ts:body, 5-minute window), insert one row;
//   - outbound:  sign each event the Standard Webhooks way (HMAC-SHA256 over id.timestamp.body) and
//                POST it, 8 at a time.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import express from 'express';
import Database from 'better-sqlite3';
import pg from 'pg';
import { request, Agent } from 'undici';

/** The few calls the handlers make, over better-sqlite3 or pg (`?` placeholders). */
export interface SqlPort {
  one<R>(text: string, params: unknown[]): Promise<R | undefined>;
  all<R>(text: string, params: unknown[]): Promise<R[]>;
  run(text: string, params: unknown[]): Promise<void>;
  close(): Promise<void>;
}

/** better-sqlite3 on `file`, WAL and synchronous=NORMAL like Plugboard's store; statements prepared once. */
export function sqlitePort(file: string): SqlPort {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  const stmts = new Map<string, Database.Statement>();
  const stmt = (t: string) => stmts.get(t) ?? stmts.set(t, db.prepare(t)).get(t)!;
  return {
    one: async <R>(t: string, p: unknown[]) => stmt(t).get(...p) as R | undefined,
    all: async <R>(t: string, p: unknown[]) => stmt(t).all(...p) as R[],
    run: async (t, p) => void stmt(t).run(...p),
    close: async () => void db.close(),
  };
}

/** A pg pool (10 connections, Plugboard's default pool size) on `schema`. */
export function postgresPort(url: string, schema: string): SqlPort {
  const pool = new pg.Pool({ connectionString: url, max: 10, options: `-c search_path=${schema}` });
  const numbered = (t: string) => {
    let n = 0;
    return t.replace(/\?/g, () => `$${++n}`);
  };
  const texts = new Map<string, string>();
  const q = (t: string) => texts.get(t) ?? texts.set(t, numbered(t)).get(t)!;
  return {
    one: async <R>(t: string, p: unknown[]) => (await pool.query({ text: q(t), values: p })).rows[0] as R | undefined,
    all: async <R>(t: string, p: unknown[]) => (await pool.query({ text: q(t), values: p })).rows as R[],
    run: async (t, p) => void (await pool.query({ text: q(t), values: p })),
    close: () => pool.end(),
  };
}

/** A SQLite file of its own for a baseline's tables (same file type and settings as the store). */
export function scratchSqlite(): { port: SqlPort; file: string } {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pb-bench-honest-')), 'honest.sqlite');
  return { port: sqlitePort(file), file };
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

interface KeyRow { tenant_id: string; scopes: string; expires_at: string | null }

/** The tenant of a valid, unrevoked, unexpired key holding `scope` (or admin), else undefined. */
async function checkKey(db: SqlPort, header: string | undefined, scope: string): Promise<string | undefined> {
  if (!header?.startsWith('Bearer ')) return undefined;
  const k = await db.one<KeyRow>('SELECT tenant_id, scopes, expires_at FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL', [sha256(header.slice(7))]);
  if (!k || (k.expires_at && Date.parse(k.expires_at) <= Date.now())) return undefined;
  const scopes = (typeof k.scopes === 'string' ? JSON.parse(k.scopes) : k.scopes) as string[];
  return scopes.includes(scope) || scopes.includes('admin') ? k.tenant_id : undefined;
}

const unauthorized = (res: express.Response) => res.status(401).json({ success: false, message: 'Unauthorized' });

/** Provider catalogue entries the list view needs (a hand-written service would hold these as constants). */
export interface ProviderInfo { display_name: string; category: string; fields: Array<{ name: string; sensitive: boolean; required: boolean }> }

interface IntegrationDbRow {
  id: string; provider: string; status: string; enabled_capabilities: string | string[]; environment: string | null;
  credentials_public: string | Record<string, unknown>; metadata: string | Record<string, unknown>; system_metadata: string | Record<string, unknown>;
  verified_at: string | null; created_at: string; updated_at: string;
}

const parsed = <T>(v: string | T): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);
const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : (v as string | null));

/** GET /api/v1/integrations by hand (same path, so the links match), reading Plugboard's own integrations and api_keys tables (`db`). */
export function listApp(db: SqlPort, providers: Record<string, ProviderInfo>): express.Express {
  const app = express();
  app.get('/api/v1/integrations', async (req, res) => {
    const tenant = await checkKey(db, req.headers.authorization, 'read');
    if (!tenant) return void unauthorized(res);
    const page = Math.max(1, Number(req.query['page'] ?? 1) || 1);
    const perPage = Math.min(100, Math.max(1, Number(req.query['per_page'] ?? 25) || 25));
    const [count, rows] = await Promise.all([
      db.one<{ n: number | string }>('SELECT count(*) AS n FROM integrations WHERE tenant_id = ? AND deleted_at IS NULL', [tenant]),
      db.all<IntegrationDbRow>('SELECT id, provider, status, enabled_capabilities, environment, credentials_public, metadata, system_metadata, verified_at, created_at, updated_at FROM integrations WHERE tenant_id = ? AND deleted_at IS NULL ORDER BY created_at, id LIMIT ? OFFSET ?', [tenant, perPage, (page - 1) * perPage]),
    ]);
    const total = Number(count!.n);
    const data = rows.map((r) => {
      const p = providers[r.provider];
      const pub = parsed<Record<string, unknown>>(r.credentials_public);
      const credentials: Record<string, unknown> = {};
      for (const f of p?.fields ?? []) credentials[f.name] = f.sensitive ? null : (pub[f.name] ?? null);
      return {
        id: r.id, provider: r.provider, display_name: p?.display_name ?? r.provider, category: p?.category ?? 'unknown', status: r.status,
        enabled_capabilities: parsed<string[]>(r.enabled_capabilities), environment: r.environment, credentials,
        credentials_set: (p?.fields ?? []).filter((f) => (f.sensitive ? f.required : pub[f.name] !== undefined && pub[f.name] !== null && pub[f.name] !== '')).map((f) => f.name),
        metadata: { ...parsed<Record<string, unknown>>(r.metadata), ...parsed<Record<string, unknown>>(r.system_metadata) },
        verified_at: iso(r.verified_at), created_at: iso(r.created_at), updated_at: iso(r.updated_at),
      };
    });
    const last = Math.max(1, Math.ceil(total / perPage));
    const link = (n: number) => `${req.baseUrl}${req.path}?page=${n}&per_page=${perPage}`;
    res.json({
      success: true, message: 'OK', data,
      meta: { current_page: page, per_page: perPage, total, last_page: last },
      links: { first: link(1), last: link(last), prev: page > 1 ? link(page - 1) : null, next: page < last ? link(page + 1) : null },
    });
  });
  return app;
}

export const DELIVERIES_DDL = `CREATE TABLE IF NOT EXISTS bench_deliveries (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, operation_id TEXT NOT NULL, capability TEXT NOT NULL,
  integration_id TEXT NOT NULL, provider TEXT NOT NULL, attempt INTEGER NOT NULL, status TEXT NOT NULL, provider_status_code INTEGER,
  duration_ms INTEGER NOT NULL, created_at TEXT NOT NULL)`;
export const API_KEYS_DDL = `CREATE TABLE IF NOT EXISTS api_keys (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL,
  expires_at TEXT, revoked_at TEXT)`;
export const INBOUND_DDL = `CREATE TABLE IF NOT EXISTS bench_inbound (id TEXT PRIMARY KEY, integration_id TEXT NOT NULL, event_id TEXT NOT NULL UNIQUE, body TEXT NOT NULL, received_at TEXT NOT NULL)`;

/** The tables a baseline writes (and, on a scratch SQLite file, the api_keys table holding `apiKey`'s hash). */
export async function prepareTables(db: SqlPort, opts: { apiKey?: string; tenantId?: string }): Promise<void> {
  await db.run(DELIVERIES_DDL, []);
  await db.run(INBOUND_DDL, []);
  if (opts.apiKey) {
    await db.run(API_KEYS_DDL, []);
    await db.run('INSERT INTO api_keys (id, tenant_id, key_hash, scopes) VALUES (?, ?, ?, ?)', [randomUUID(), opts.tenantId, sha256(opts.apiKey), JSON.stringify(['admin'])]);
  }
}

const STATUSES = new Set(['queued', 'sending', 'sent', 'delivered', 'failed', 'undelivered', 'accepted', 'scheduled']);

/**
 * POST /operations/send_sms by hand: the key check, the Twilio call (form body, basic auth) with
 * undici, one delivery row, and Plugboard's success envelope.
 */
export function operationApp(db: SqlPort, opts: { providerUrl: string; credentials: { account_sid: string; auth_token: string; from_number: string }; integrationId: string }): express.Express {
  const app = express();
  const c = opts.credentials;
  const url = `${opts.providerUrl}/2010-04-01/Accounts/${c.account_sid}/Messages.json`;
  const auth = `Basic ${Buffer.from(`${c.account_sid}:${c.auth_token}`).toString('base64')}`;
  app.post('/api/v1/operations/send_sms', express.json(), async (req, res) => {
    const tenant = await checkKey(db, req.headers.authorization, 'write');
    if (!tenant) return void unauthorized(res);
    const input = (req.body as { input?: { to?: unknown; body?: unknown } })?.input;
    if (typeof input?.to !== 'string' || typeof input.body !== 'string') return void res.status(422).json({ success: false, message: 'input.to and input.body are required' });
    const started = Date.now();
    const r = await request(url, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: new URLSearchParams({ To: input.to, From: c.from_number, Body: input.body }).toString() });
    const answer = (await r.body.json()) as { sid: string; status: string; to: string; num_segments?: string | null };
    const operationId = randomUUID();
    const deliveryId = randomUUID();
    await db.run('INSERT INTO bench_deliveries (id, tenant_id, operation_id, capability, integration_id, provider, attempt, status, provider_status_code, duration_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [deliveryId, tenant, operationId, 'send_sms', opts.integrationId, 'twilio', 1, r.statusCode < 300 ? 'succeeded' : 'failed', r.statusCode, Date.now() - started, new Date().toISOString()]);
    const output = { message_id: answer.sid, status: STATUSES.has(answer.status) ? answer.status : 'unknown', to: answer.to, segments: answer.num_segments == null ? null : Number(answer.num_segments) };
    res.json({ success: true, message: 'Operation succeeded.', data: { operation_id: operationId, capability: 'send_sms', integration_id: opts.integrationId, provider: 'twilio', output, fallback_used: false, deliveries: [deliveryId] } });
  });
  return app;
}

/** POST /inbound/slack by hand: the Slack signature check (v0, 5-minute window), then one row. */
export function inboundApp(db: SqlPort, signingSecret: string, integrationId: string): express.Express {
  const app = express();
  app.post('/api/v1/webhooks/inbound/slack/:id', express.raw({ type: '*/*', limit: '1mb' }), async (req, res) => {
    const ts = String(req.headers['x-slack-request-timestamp'] ?? '');
    const sig = String(req.headers['x-slack-signature'] ?? '');
    const body = (req.body as Buffer).toString('utf8');
    if (!/^\d+$/.test(ts) || Math.abs(Date.now() / 1000 - Number(ts)) > 300) return void res.status(401).json({ success: false, message: 'stale' });
    const want = Buffer.from(`v0=${createHmac('sha256', signingSecret).update(`v0:${ts}:${body}`).digest('hex')}`);
    const got = Buffer.from(sig);
    if (got.length !== want.length || !timingSafeEqual(got, want)) return void res.status(401).json({ success: false, message: 'bad signature' });
    const event = JSON.parse(body) as { event_id?: string };
    await db.run('INSERT INTO bench_inbound (id, integration_id, event_id, body, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING', [randomUUID(), integrationId, event.event_id ?? randomUUID(), body, new Date().toISOString()]);
    res.status(202).json({ success: true, message: 'Accepted' });
  });
  return app;
}

/** `events` signed deliveries POSTed 8 at a time (the per-endpoint limit); deliveries per second. */
export async function signedPosts(target: string, events: number, tenantId: string): Promise<number> {
  const key = Buffer.from('bench-webhook-secret-0000000000000000', 'utf8');
  const agent = new Agent({ connections: 8 });
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next++ < events) {
      const id = randomUUID();
      const body = JSON.stringify({ type: 'payment.completed', id, schema_version: 1, occurred_at: new Date().toISOString(), tenant_id: tenantId, data: { payment_id: `pi_${next}`, provider: 'stripe', amount: 100, currency: 'usd', status: 'succeeded' } });
      const ts = Math.floor(Date.now() / 1000);
      const signature = `v1,${createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64')}`;
      const r = await request(target, { method: 'POST', body, headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signature }, dispatcher: agent });
      await r.body.dump();
      if (r.statusCode >= 300) throw new Error(`receiver answered ${r.statusCode}`);
    }
  }));
  const rate = events / ((performance.now() - t0) / 1000);
  await agent.close();
  return rate;
}
