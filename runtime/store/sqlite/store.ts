// SQLite implementation of the Store (better-sqlite3: synchronous, fast, WAL).
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type {
  Store, TenantRow, ApiKeyRow, OAuthClientRow, AuditEntry, AuditFilter, UsageRow, SealedKeyRef,
  WebhookSubscriptionRow, EventRow, WebhookDeliveryRow, WebhookAttemptRow, InboundEventRow, IntegrationRow, RoutingRuleRow, DeliveryRow, OperationRow,
  IntegrationFilter, DeliveryFilter, ListQuery, ListResult, IntegrationStatus,
} from '../types.ts';
import { UniqueViolation } from '../types.ts';
import { SQLITE_MIGRATIONS } from './migrations.ts';

type Row = Record<string, unknown>;

const json = (v: unknown) => JSON.stringify(v ?? null);
const parse = <T>(v: unknown, fallback: T): T => (typeof v === 'string' ? (JSON.parse(v) as T) : fallback);

function isUnique(err: unknown): boolean {
  return (err as { code?: string })?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

function toIntegration(r: Row): IntegrationRow {
  return {
    ...(r as unknown as IntegrationRow),
    enabled_capabilities: parse(r['enabled_capabilities'], []),
    metadata: parse(r['metadata'], {}),
    credentials_public: parse(r['credentials_public'], {}),
  };
}

function toRule(r: Row): RoutingRuleRow {
  return { ...(r as unknown as RoutingRuleRow), is_default: r['is_default'] === 1, conditions: parse(r['conditions'], {}) };
}

function toDelivery(r: Row): DeliveryRow {
  return { ...(r as unknown as DeliveryRow), error: parse(r['error'], null) };
}

function toSubscription(r: Row): WebhookSubscriptionRow {
  return { ...(r as unknown as WebhookSubscriptionRow), events: parse(r['events'], []), enabled: r['enabled'] === 1 };
}

function toApiKey(r: Row): ApiKeyRow {
  return { ...(r as unknown as ApiKeyRow), scopes: parse(r['scopes'], []) };
}

function toOperation(r: Row): OperationRow {
  return { ...(r as unknown as OperationRow), response: parse(r['response'], null) };
}

/** Adds `col = @col` to `where` for each listed filter that is set. */
function equalityFilters<F extends object>(where: string[], params: Row, filter: F, columns: Array<keyof F & string>): void {
  for (const k of columns) {
    const v = filter[k];
    if (v === undefined || v === null || v === '') continue;
    where.push(`${k} = @${k}`);
    params[k] = v;
  }
}

/** Builds "SET a = @a, b = @b" from a patch, serialising JSON columns. */
function setClause(patch: Row, jsonCols: string[], boolCols: string[] = []): { sql: string; params: Row } {
  const params: Row = {};
  const parts: string[] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    if (!/^[a-z_]+$/.test(k)) throw new Error(`bad column ${k}`);
    parts.push(`${k} = @${k}`);
    params[k] = jsonCols.includes(k) ? json(v) : boolCols.includes(k) ? (v ? 1 : 0) : v;
  }
  return { sql: parts.join(', '), params };
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly db: Database.Database;

  // Prepared once per SQL text: better-sqlite3's prepare() costs more than most of our queries.
  private readonly statements = new Map<string, Database.Statement>();
  private sql(text: string): Database.Statement {
    let st = this.statements.get(text);
    if (!st) {
      st = this.db.prepare(text);
      this.statements.set(text, st);
    }
    return st;
  }

  constructor(readonly file: string) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
  }

  async migrate(): Promise<void> {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    for (let v = current; v < SQLITE_MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(SQLITE_MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      }).immediate();
    }
  }

  async ping(): Promise<void> {
    this.sql('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private page<T>(sqlFrom: string, params: Row, q: ListQuery, order: string, map: (r: Row) => T): ListResult<T> {
    const total = (this.sql(`SELECT COUNT(*) AS n ${sqlFrom}`).get(params) as { n: number }).n;
    const rows = this.sql(`SELECT * ${sqlFrom} ORDER BY ${order} LIMIT @limit OFFSET @offset`).all({ ...params, limit: q.perPage, offset: (q.page - 1) * q.perPage }) as Row[];
    return { items: rows.map(map), total };
  }

  tenants = {
    create: async (row: TenantRow) => {
      this.sql('INSERT INTO tenants (id, name, plan, rate_limits, created_at) VALUES (@id, @name, @plan, @rate_limits, @created_at)').run({ ...row, rate_limits: row.rate_limits ? json(row.rate_limits) : null });
    },
    get: async (id: string) => {
      const r = this.sql('SELECT * FROM tenants WHERE id = ?').get(id) as Row | undefined;
      return r ? ({ ...(r as unknown as TenantRow), rate_limits: parse(r['rate_limits'], null) } as TenantRow) : undefined;
    },
    update: async (id: string, patch: Partial<Pick<TenantRow, 'name' | 'plan' | 'rate_limits'>>) => {
      const { sql, params } = setClause(patch as Row, ['rate_limits']);
      if (sql) this.sql(`UPDATE tenants SET ${sql} WHERE id = @__id`).run({ ...params, __id: id });
      return this.tenants.get(id);
    },
  };

  apiKeys = {
    create: async (row: ApiKeyRow) => {
      this.sql(`INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, scopes, expires_at, last_used_at, revoked_at, created_at)
        VALUES (@id, @tenant_id, @name, @prefix, @key_hash, @scopes, @expires_at, @last_used_at, @revoked_at, @created_at)`).run({ ...row, scopes: json(row.scopes) });
    },
    findByHash: async (hash: string) => {
      const r = this.sql('SELECT * FROM api_keys WHERE key_hash = ?').get(hash) as Row | undefined;
      return r ? toApiKey(r) : undefined;
    },
    get: async (tenantId: string, id: string) => {
      const r = this.sql('SELECT * FROM api_keys WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL').get(tenantId, id) as Row | undefined;
      return r ? toApiKey(r) : undefined;
    },
    list: async (tenantId: string, q: ListQuery) => this.page('FROM api_keys WHERE tenant_id = @tenantId AND revoked_at IS NULL', { tenantId }, q, 'created_at, id', toApiKey),
    revoke: async (tenantId: string, id: string, at: string) => this.sql('UPDATE api_keys SET revoked_at = ? WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL').run(at, tenantId, id).changes === 1,
    touch: async (uses: Array<{ id: string; at: string }>) => {
      const st = this.sql('UPDATE api_keys SET last_used_at = @at WHERE id = @id AND (last_used_at IS NULL OR last_used_at < @at)');
      this.db.transaction(() => {
        for (const u of uses) st.run(u);
      })();
    },
  };

  oauthClients = {
    create: async (row: OAuthClientRow) => {
      this.sql(`INSERT INTO oauth_clients (id, tenant_id, name, client_id, secret_hash, scopes, revoked_at, last_used_at, created_at)
        VALUES (@id, @tenant_id, @name, @client_id, @secret_hash, @scopes, @revoked_at, @last_used_at, @created_at)`).run({ ...row, scopes: json(row.scopes) });
    },
    findByClientId: async (clientId: string) => {
      const r = this.sql('SELECT * FROM oauth_clients WHERE client_id = ?').get(clientId) as Row | undefined;
      return r ? ({ ...(r as unknown as OAuthClientRow), scopes: parse(r['scopes'], []) } as OAuthClientRow) : undefined;
    },
    findById: async (id: string) => {
      const r = this.sql('SELECT * FROM oauth_clients WHERE id = ?').get(id) as Row | undefined;
      return r ? ({ ...(r as unknown as OAuthClientRow), scopes: parse(r['scopes'], []) } as OAuthClientRow) : undefined;
    },
    list: async (tenantId: string, q: ListQuery) =>
      this.page('FROM oauth_clients WHERE tenant_id = @tenantId AND revoked_at IS NULL', { tenantId }, q, 'created_at, id', (r) => ({ ...(r as unknown as OAuthClientRow), scopes: parse(r['scopes'], []) }) as OAuthClientRow),
    revoke: async (tenantId: string, id: string, at: string) => this.sql('UPDATE oauth_clients SET revoked_at = ? WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL').run(at, tenantId, id).changes === 1,
  };

  revokedTokens = {
    add: async (jti: string, tenantId: string, expiresAt: string) => {
      this.sql('INSERT OR IGNORE INTO revoked_tokens (jti, tenant_id, expires_at) VALUES (?, ?, ?)').run(jti, tenantId, expiresAt);
      this.sql('DELETE FROM revoked_tokens WHERE expires_at < ?').run(new Date().toISOString());
    },
    isRevoked: async (jti: string) => !!this.sql('SELECT 1 FROM revoked_tokens WHERE jti = ?').get(jti),
  };

  audit = {
    append: async (e: AuditEntry) => {
      this.sql(`INSERT INTO audit_log (id, tenant_id, actor, action, target_type, target_id, request_id, changed_fields, created_at)
        VALUES (@id, @tenant_id, @actor, @action, @target_type, @target_id, @request_id, @changed_fields, @created_at)`).run({ ...e, changed_fields: json(e.changed_fields) });
    },
    list: async (tenantId: string, f: AuditFilter) => {
      const where = ['tenant_id = @tenantId'];
      const params: Row = { tenantId };
      equalityFilters(where, params, f, ['action', 'target_type', 'target_id', 'actor']);
      if (f.from) {
        where.push('created_at >= @from');
        params['from'] = f.from;
      }
      if (f.to) {
        where.push('created_at < @to');
        params['to'] = f.to;
      }
      return this.page(`FROM audit_log WHERE ${where.join(' AND ')}`, params, f, 'created_at DESC, id DESC', (r) => ({ ...(r as unknown as AuditEntry), changed_fields: parse(r['changed_fields'], []) }));
    },
  };

  webhookSubscriptions = {
    create: async (row: WebhookSubscriptionRow) => {
      this.sql(`INSERT INTO webhook_subscriptions (id, tenant_id, kind, url, events, description, enabled, secret_sealed, data_key_wrapped, master_key_id, previous_secret_expires_at, failing_since, disabled_reason, created_at, updated_at, deleted_at)
        VALUES (@id, @tenant_id, @kind, @url, @events, @description, @enabled, @secret_sealed, @data_key_wrapped, @master_key_id, @previous_secret_expires_at, @failing_since, @disabled_reason, @created_at, @updated_at, @deleted_at)`).run({ ...row, events: json(row.events), enabled: row.enabled ? 1 : 0 });
    },
    get: async (tenantId: string, id: string) => {
      const r = this.sql('SELECT * FROM webhook_subscriptions WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL').get(tenantId, id) as Row | undefined;
      return r ? toSubscription(r) : undefined;
    },
    list: async (tenantId: string, q: ListQuery & { kind?: WebhookSubscriptionRow['kind'] }) =>
      this.page(`FROM webhook_subscriptions WHERE tenant_id = @tenantId AND deleted_at IS NULL${q.kind ? ' AND kind = @kind' : ''}`, { tenantId, ...(q.kind ? { kind: q.kind } : {}) }, q, 'created_at, id', toSubscription),
    enabled: async (tenantId: string) =>
      (this.sql('SELECT * FROM webhook_subscriptions WHERE tenant_id = ? AND enabled = 1 AND deleted_at IS NULL').all(tenantId) as Row[]).map(toSubscription),
    update: async (tenantId: string, id: string, patch: Partial<WebhookSubscriptionRow>) => {
      const { sql, params } = setClause(patch as Row, ['events'], ['enabled']);
      if (sql) this.sql(`UPDATE webhook_subscriptions SET ${sql} WHERE tenant_id = @__tenant AND id = @__id AND deleted_at IS NULL`).run({ ...params, __tenant: tenantId, __id: id });
      return this.webhookSubscriptions.get(tenantId, id);
    },
    disable: async (tenantId: string, id: string, reason: string) =>
      this.sql('UPDATE webhook_subscriptions SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE tenant_id = ? AND id = ? AND enabled = 1').run(reason, new Date().toISOString(), tenantId, id).changes === 1,
  };

  webhookDeliveries = {
    createWithEvent: async (event: EventRow, deliveries: WebhookDeliveryRow[]) => {
      const ev = this.sql(`INSERT INTO events (id, tenant_id, type, schema_version, occurred_at, data, source, created_at)
        VALUES (@id, @tenant_id, @type, @schema_version, @occurred_at, @data, @source, @created_at)`);
      const d = this.sql(`INSERT INTO webhook_deliveries (id, tenant_id, event_id, event_type, subscription_id, body, status, attempts, next_attempt_at, locked_until, last_status_code, last_error, created_at, updated_at, delivered_at)
        VALUES (@id, @tenant_id, @event_id, @event_type, @subscription_id, @body, @status, @attempts, @next_attempt_at, @locked_until, @last_status_code, @last_error, @created_at, @updated_at, @delivered_at)`);
      try {
        this.db.transaction(() => {
          ev.run({ ...event, data: json(event.data) });
          for (const row of deliveries) d.run(row);
        }).immediate();
      } catch (err) {
        if (isUnique(err) || (err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new UniqueViolation('event already stored');
        throw err;
      }
    },
    get: async (tenantId: string, id: string) => this.sql('SELECT * FROM webhook_deliveries WHERE tenant_id = ? AND id = ?').get(tenantId, id) as WebhookDeliveryRow | undefined,
    list: async (tenantId: string, f: ListQuery & { status?: string; subscription_id?: string; event_type?: string }) => {
      const where = ['tenant_id = @tenantId'];
      const params: Row = { tenantId };
      equalityFilters(where, params, f, ['status', 'subscription_id', 'event_type']);
      return this.page(`FROM webhook_deliveries WHERE ${where.join(' AND ')}`, params, f, 'created_at DESC, id DESC', (r) => r as unknown as WebhookDeliveryRow);
    },
    claimDue: async (now: number, leaseMs: number, limit: number, free: (subscriptionId: string) => number, saturated: string[]) => {
      // One IMMEDIATE transaction: two workers on the same file never lease the same delivery.
      // Busy endpoints are excluded in SQL, so a backlog for one slow receiver never hides the others.
      const excluded = saturated.slice(0, 500);
      const notIn = excluded.length ? `AND subscription_id NOT IN (${excluded.map((_, i) => `@s${i}`).join(', ')})` : '';
      return this.db.transaction(() => {
        const rows = this.db.prepare(`SELECT id, subscription_id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= @now AND (locked_until IS NULL OR locked_until <= @now) ${notIn}
          ORDER BY next_attempt_at LIMIT @scan`).all({ now, scan: Math.min(limit * 4, 256), ...Object.fromEntries(excluded.map((id, i) => [`s${i}`, id])) }) as Array<Pick<WebhookDeliveryRow, 'id' | 'subscription_id'>>;
        const taken = new Map<string, number>();
        const picked: Array<Pick<WebhookDeliveryRow, 'id' | 'subscription_id'>> = [];
        for (const r of rows) {
          if (picked.length >= limit) break;
          const n = taken.get(r.subscription_id) ?? 0;
          if (n >= free(r.subscription_id)) continue;
          taken.set(r.subscription_id, n + 1);
          picked.push(r);
        }
        const lock = this.sql('UPDATE webhook_deliveries SET locked_until = ? WHERE id = ?');
        const get = this.sql('SELECT * FROM webhook_deliveries WHERE id = ?');
        return picked.map((r) => {
          lock.run(now + leaseMs, r.id);
          return get.get(r.id) as WebhookDeliveryRow;
        });
      }).immediate();
    },
    recordAttempt: async (a: WebhookAttemptRow, u: Pick<WebhookDeliveryRow, 'status' | 'attempts' | 'next_attempt_at' | 'last_status_code' | 'last_error' | 'delivered_at'>) => {
      const ins = this.sql(`INSERT INTO webhook_attempts (id, tenant_id, delivery_id, attempt, status_code, response_excerpt, duration_ms, error, created_at)
        VALUES (@id, @tenant_id, @delivery_id, @attempt, @status_code, @response_excerpt, @duration_ms, @error, @created_at)`);
      const upd = this.sql(`UPDATE webhook_deliveries SET status = @status, attempts = @attempts, next_attempt_at = @next_attempt_at, locked_until = NULL,
        last_status_code = @last_status_code, last_error = @last_error, delivered_at = COALESCE(@delivered_at, delivered_at), updated_at = @now WHERE tenant_id = @tenant_id AND id = @id`);
      this.db.transaction(() => {
        ins.run(a);
        upd.run({ ...u, now: new Date().toISOString(), tenant_id: a.tenant_id, id: a.delivery_id });
      }).immediate();
    },
    attempts: async (tenantId: string, deliveryId: string) => this.sql('SELECT * FROM webhook_attempts WHERE tenant_id = ? AND delivery_id = ? ORDER BY attempt').all(tenantId, deliveryId) as WebhookAttemptRow[],
    requeue: async (tenantId: string, ids: string[], now: number) => {
      const st = this.sql(`UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = @now, locked_until = NULL, attempts = 0, updated_at = @iso
        WHERE tenant_id = @tenantId AND id = @id AND NOT (status = 'pending' AND locked_until IS NOT NULL AND locked_until > @now)`);
      return this.db.transaction(() => ids.reduce((n, id) => n + st.run({ now, iso: new Date(now).toISOString(), tenantId, id }).changes, 0)).immediate();
    },
    idsForSubscription: async (tenantId: string, subscriptionId: string, since: string) =>
      (this.sql('SELECT id FROM webhook_deliveries WHERE tenant_id = ? AND subscription_id = ? AND created_at >= ? ORDER BY created_at').all(tenantId, subscriptionId, since) as Array<{ id: string }>).map((r) => r.id),
    cancelPending: async (tenantId: string, subscriptionId: string) =>
      this.sql(`UPDATE webhook_deliveries SET status = 'cancelled', next_attempt_at = NULL, updated_at = ? WHERE tenant_id = ? AND subscription_id = ? AND status = 'pending'`).run(new Date().toISOString(), tenantId, subscriptionId).changes,
    pendingCount: async () => (this.sql(`SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'pending'`).get() as { n: number }).n,
  };

  inboundEvents = {
    create: async (row: InboundEventRow) => {
      try {
        this.sql(`INSERT INTO inbound_events (id, tenant_id, integration_id, provider, provider_event_id, provider_event_type, status, reason, content_type, body, normalized_event_id, next_attempt_at, locked_until, attempts, received_at, processed_at)
          VALUES (@id, @tenant_id, @integration_id, @provider, @provider_event_id, @provider_event_type, @status, @reason, @content_type, @body, @normalized_event_id, @next_attempt_at, @locked_until, @attempts, @received_at, @processed_at)`).run(row);
      } catch (err) {
        if (isUnique(err)) throw new UniqueViolation('inbound event already received');
        throw err;
      }
    },
    get: async (tenantId: string, id: string) => this.sql('SELECT * FROM inbound_events WHERE tenant_id = ? AND id = ?').get(tenantId, id) as InboundEventRow | undefined,
    list: async (tenantId: string, f: ListQuery & { status?: string; integration_id?: string }) => {
      const where = ['tenant_id = @tenantId'];
      const params: Row = { tenantId };
      equalityFilters(where, params, f, ['status', 'integration_id']);
      return this.page(`FROM inbound_events WHERE ${where.join(' AND ')}`, params, f, 'received_at DESC, id DESC', (r) => r as unknown as InboundEventRow);
    },
    claimDue: async (now: number, leaseMs: number, limit: number) =>
      this.db.transaction(() => {
        const rows = this.sql(`SELECT * FROM inbound_events WHERE status = 'received' AND next_attempt_at <= @now AND (locked_until IS NULL OR locked_until <= @now) ORDER BY next_attempt_at LIMIT @limit`).all({ now, limit }) as InboundEventRow[];
        const lock = this.sql('UPDATE inbound_events SET locked_until = ? WHERE id = ?');
        for (const r of rows) lock.run(now + leaseMs, r.id);
        return rows;
      }).immediate(),
    finish: async (tenantId: string, id: string, p: Pick<InboundEventRow, 'status' | 'reason' | 'normalized_event_id' | 'processed_at' | 'next_attempt_at' | 'attempts' | 'provider_event_type'>) => {
      this.sql(`UPDATE inbound_events SET status = @status, reason = @reason, normalized_event_id = @normalized_event_id, processed_at = @processed_at, next_attempt_at = @next_attempt_at, attempts = @attempts, provider_event_type = @provider_event_type, locked_until = NULL WHERE tenant_id = @tenantId AND id = @id`).run({ ...p, tenantId, id });
    },
    requeue: async (tenantId: string, id: string, now: number) =>
      this.sql(`UPDATE inbound_events SET status = 'received', next_attempt_at = ?, locked_until = NULL, attempts = 0 WHERE tenant_id = ? AND id = ? AND status != 'rejected'
        AND NOT (status = 'received' AND locked_until IS NOT NULL AND locked_until > ?)`).run(now, tenantId, id, now).changes === 1,
  };

  usage = {
    add: async (rows: UsageRow[]) => {
      const get = this.sql('SELECT count, latency_ms_sum, latency_histogram FROM usage_minutes WHERE tenant_id = @tenant_id AND minute = @minute AND credential = @credential AND route = @route AND status = @status');
      const put = this.sql(`INSERT OR REPLACE INTO usage_minutes (tenant_id, minute, credential, route, status, count, latency_ms_sum, latency_histogram)
        VALUES (@tenant_id, @minute, @credential, @route, @status, @count, @latency_ms_sum, @latency_histogram)`);
      this.db.transaction(() => {
        for (const r of rows) {
          const old = get.get(r) as { count: number; latency_ms_sum: number; latency_histogram: string } | undefined;
          const hist = old ? (JSON.parse(old.latency_histogram) as number[]).map((v, i) => v + (r.latency_histogram[i] ?? 0)) : r.latency_histogram;
          put.run({ ...r, count: r.count + (old?.count ?? 0), latency_ms_sum: r.latency_ms_sum + (old?.latency_ms_sum ?? 0), latency_histogram: json(hist) });
        }
      }).immediate();
    },
    range: async (tenantId: string, from: string, to: string) =>
      (this.sql('SELECT * FROM usage_minutes WHERE tenant_id = ? AND minute >= ? AND minute < ?').all(tenantId, from, to) as Row[]).map((r) => ({ ...(r as unknown as UsageRow), latency_histogram: parse(r['latency_histogram'], []) })),
  };

  integrations = {
    create: async (row: IntegrationRow) => {
      try {
        this.sql(`INSERT INTO integrations (id, tenant_id, provider, status, enabled_capabilities, metadata, credentials_public,
          credentials_sealed, data_key_wrapped, master_key_id, credentials_version, verified_at, created_at, updated_at, deleted_at)
          VALUES (@id, @tenant_id, @provider, @status, @enabled_capabilities, @metadata, @credentials_public,
          @credentials_sealed, @data_key_wrapped, @master_key_id, @credentials_version, @verified_at, @created_at, @updated_at, @deleted_at)`).run({
          ...row,
          enabled_capabilities: json(row.enabled_capabilities),
          metadata: json(row.metadata),
          credentials_public: json(row.credentials_public),
        });
      } catch (err) {
        if (isUnique(err)) throw new UniqueViolation('integration for this provider exists');
        throw err;
      }
    },
    get: async (tenantId: string, id: string) => {
      const r = this.sql('SELECT * FROM integrations WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL').get(tenantId, id) as Row | undefined;
      return r ? toIntegration(r) : undefined;
    },
    getForInbound: async (id: string) => {
      const r = this.sql('SELECT * FROM integrations WHERE id = ? AND deleted_at IS NULL').get(id) as Row | undefined;
      return r ? toIntegration(r) : undefined;
    },
    list: async (tenantId: string, f: IntegrationFilter) => {
      const where = ['tenant_id = @tenantId', 'deleted_at IS NULL'];
      const params: Row = { tenantId };
      if (f.status) {
        where.push('status = @status');
        params['status'] = f.status;
      }
      if (f.providers) {
        if (!f.providers.length) return { items: [], total: 0 };
        where.push(`provider IN (${f.providers.map((_, i) => `@p${i}`).join(', ')})`);
        f.providers.forEach((p, i) => (params[`p${i}`] = p));
      }
      return this.page(`FROM integrations WHERE ${where.join(' AND ')}`, params, f, 'created_at, id', toIntegration);
    },
    configuredProviders: async (tenantId: string) =>
      (this.sql('SELECT provider FROM integrations WHERE tenant_id = ? AND deleted_at IS NULL').all(tenantId) as Array<{ provider: string }>).map((r) => r.provider),
    update: async (tenantId: string, id: string, patch: Partial<IntegrationRow>) => {
      const { sql, params } = setClause(patch as Row, ['enabled_capabilities', 'metadata', 'credentials_public']);
      if (sql) {
        try {
          this.sql(`UPDATE integrations SET ${sql} WHERE tenant_id = @__tenant AND id = @__id AND deleted_at IS NULL`).run({ ...params, __tenant: tenantId, __id: id });
        } catch (err) {
          if (isUnique(err)) throw new UniqueViolation('integration for this provider exists');
          throw err;
        }
      }
      return this.integrations.get(tenantId, id);
    },
    setVerificationResult: async (tenantId: string, id: string, version: number, status: IntegrationStatus, metadata: Record<string, unknown>, verifiedAt: string | null) => {
      const res = this.sql(`UPDATE integrations SET status = @status, metadata = @metadata, verified_at = COALESCE(@verifiedAt, verified_at), updated_at = @now
        WHERE tenant_id = @tenantId AND id = @id AND credentials_version = @version AND status = 'pending_verify' AND deleted_at IS NULL`)
        .run({ status, metadata: json(metadata), verifiedAt, now: new Date().toISOString(), tenantId, id, version });
      return res.changes === 1;
    },
  };

  sealedKeys = {
    all: async () => [
      ...(this.sql(`SELECT 'integration' AS kind, id, tenant_id, data_key_wrapped, master_key_id FROM integrations`).all() as SealedKeyRef[]),
      ...(this.sql(`SELECT 'webhook_subscription' AS kind, id, tenant_id, data_key_wrapped, master_key_id FROM webhook_subscriptions`).all() as SealedKeyRef[]),
    ],
    rewrap: async (rows: Array<SealedKeyRef & { old_data_key_wrapped: Buffer; old_master_key_id: string }>) => {
      const sql = (table: string) => `UPDATE ${table} SET data_key_wrapped = @data_key_wrapped, master_key_id = @master_key_id
        WHERE tenant_id = @tenant_id AND id = @id AND master_key_id = @old_master_key_id AND data_key_wrapped = @old_data_key_wrapped`;
      const st = { integration: this.sql(sql('integrations')), webhook_subscription: this.sql(sql('webhook_subscriptions')) };
      return this.db.transaction(() => rows.reduce((n, { kind, ...r }) => n + st[kind].run(r).changes, 0)).immediate();
    },
  };

  routingRules = {
    create: async (row: RoutingRuleRow) => {
      this.sql(`INSERT INTO routing_rules (id, tenant_id, capability, integration_id, fallback_integration_id, is_default, priority, conditions, created_at, updated_at)
        VALUES (@id, @tenant_id, @capability, @integration_id, @fallback_integration_id, @is_default, @priority, @conditions, @created_at, @updated_at)`).run({ ...row, is_default: row.is_default ? 1 : 0, conditions: json(row.conditions) });
    },
    get: async (tenantId: string, id: string) => {
      const r = this.sql('SELECT * FROM routing_rules WHERE tenant_id = ? AND id = ?').get(tenantId, id) as Row | undefined;
      return r ? toRule(r) : undefined;
    },
    list: async (tenantId: string, f: ListQuery & { capability?: string }) => {
      const params: Row = { tenantId };
      let where = 'tenant_id = @tenantId';
      if (f.capability) {
        where += ' AND capability = @capability';
        params['capability'] = f.capability;
      }
      return this.page(`FROM routing_rules WHERE ${where}`, params, f, 'capability, priority, created_at', toRule);
    },
    forCapability: async (tenantId: string, capability: string) =>
      (this.sql('SELECT * FROM routing_rules WHERE tenant_id = ? AND capability = ? ORDER BY priority, created_at').all(tenantId, capability) as Row[]).map(toRule),
    update: async (tenantId: string, id: string, patch: Partial<RoutingRuleRow>) => {
      const { sql, params } = setClause(patch as Row, ['conditions'], ['is_default']);
      if (sql) this.sql(`UPDATE routing_rules SET ${sql} WHERE tenant_id = @__tenant AND id = @__id`).run({ ...params, __tenant: tenantId, __id: id });
      return this.routingRules.get(tenantId, id);
    },
    delete: async (tenantId: string, id: string) => this.sql('DELETE FROM routing_rules WHERE tenant_id = ? AND id = ?').run(tenantId, id).changes === 1,
    detachIntegration: async (tenantId: string, integrationId: string) => {
      this.db.transaction(() => {
        this.sql('DELETE FROM routing_rules WHERE tenant_id = ? AND integration_id = ?').run(tenantId, integrationId);
        this.sql('UPDATE routing_rules SET fallback_integration_id = NULL, updated_at = ? WHERE tenant_id = ? AND fallback_integration_id = ?').run(new Date().toISOString(), tenantId, integrationId);
      }).immediate();
    },
  };

  deliveries = {
    create: async (row: DeliveryRow) => {
      this.sql(`INSERT INTO deliveries (id, tenant_id, operation_id, capability, integration_id, provider, attempt, status, provider_status_code, duration_ms, error, request_id, provider_request_id, created_at)
        VALUES (@id, @tenant_id, @operation_id, @capability, @integration_id, @provider, @attempt, @status, @provider_status_code, @duration_ms, @error, @request_id, @provider_request_id, @created_at)`).run({ ...row, error: row.error ? json(row.error) : null });
    },
    get: async (tenantId: string, id: string) => {
      const r = this.sql('SELECT * FROM deliveries WHERE tenant_id = ? AND id = ?').get(tenantId, id) as Row | undefined;
      return r ? toDelivery(r) : undefined;
    },
    list: async (tenantId: string, f: DeliveryFilter) => {
      const where = ['tenant_id = @tenantId'];
      const params: Row = { tenantId };
      equalityFilters(where, params, f, ['integration_id', 'capability', 'status', 'operation_id']);
      return this.page(`FROM deliveries WHERE ${where.join(' AND ')}`, params, f, 'created_at DESC, id DESC', toDelivery);
    },
  };

  operations = {
    begin: async (row: OperationRow) => {
      try {
        this.sql(`INSERT INTO operations (id, tenant_id, capability, idempotency_key, request_hash, status, http_status, response, created_at, updated_at)
          VALUES (@id, @tenant_id, @capability, @idempotency_key, @request_hash, @status, @http_status, @response, @created_at, @updated_at)`).run({ ...row, response: row.response === null ? null : json(row.response) });
      } catch (err) {
        if (isUnique(err)) throw new UniqueViolation('idempotency key in use');
        throw err;
      }
    },
    findByKey: async (tenantId: string, key: string) => {
      const r = this.sql('SELECT * FROM operations WHERE tenant_id = ? AND idempotency_key = ?').get(tenantId, key) as Row | undefined;
      return r ? toOperation(r) : undefined;
    },
    finish: async (tenantId: string, id: string, status: OperationRow['status'], httpStatus: number, response: unknown) => {
      this.sql('UPDATE operations SET status = ?, http_status = ?, response = ?, updated_at = ? WHERE tenant_id = ? AND id = ?').run(status, httpStatus, json(response), new Date().toISOString(), tenantId, id);
    },
    remove: async (tenantId: string, id: string) => {
      this.sql(`DELETE FROM operations WHERE tenant_id = ? AND id = ? AND status = 'in_progress'`).run(tenantId, id);
    },
  };
}
