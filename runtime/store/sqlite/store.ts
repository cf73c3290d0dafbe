// SQLite implementation of the Store (better-sqlite3: synchronous, fast, WAL). One repository file
// per concern; this class only opens the database, migrates it and composes them.
import type Database from 'better-sqlite3';
import type { Store } from '../types.ts';
import { SQLITE_MIGRATIONS } from './migrations.ts';
import { SqliteConnection } from './connection.ts';
import { tenantsRepo, apiKeysRepo, oauthClientsRepo, revokedTokensRepo, auditRepo, usageRepo } from './access.ts';
import { webhookSubscriptionsRepo, webhookDeliveriesRepo, inboundEventsRepo } from './webhooks.ts';
import { integrationsRepo, sealedKeysRepo } from './integrations.ts';
import { routingRulesRepo, deliveriesRepo } from './routing.ts';
import { operationsRepo } from './operations.ts';
import { sqliteRateLimits } from './rate-limits.ts';
import { oauthConnectionsRepo } from './oauth.ts';

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly db: Database.Database;
  private readonly c: SqliteConnection;
  readonly rateLimits: Store['rateLimits'];
  readonly tenants: Store['tenants'];
  readonly apiKeys: Store['apiKeys'];
  readonly oauthClients: Store['oauthClients'];
  readonly revokedTokens: Store['revokedTokens'];
  readonly audit: Store['audit'];
  readonly webhookSubscriptions: Store['webhookSubscriptions'];
  readonly webhookDeliveries: Store['webhookDeliveries'];
  readonly inboundEvents: Store['inboundEvents'];
  readonly usage: Store['usage'];
  readonly integrations: Store['integrations'];
  readonly sealedKeys: Store['sealedKeys'];
  readonly routingRules: Store['routingRules'];
  readonly deliveries: Store['deliveries'];
  readonly operations: Store['operations'];
  readonly oauthConnections: Store['oauthConnections'];

  constructor(readonly file: string) {
    const c = (this.c = new SqliteConnection(file));
    this.db = c.db;
    this.rateLimits = sqliteRateLimits(c.db);
    this.tenants = tenantsRepo(c);
    this.apiKeys = apiKeysRepo(c);
    this.oauthClients = oauthClientsRepo(c);
    this.revokedTokens = revokedTokensRepo(c);
    this.audit = auditRepo(c);
    this.webhookSubscriptions = webhookSubscriptionsRepo(c);
    this.webhookDeliveries = webhookDeliveriesRepo(c);
    this.inboundEvents = inboundEventsRepo(c);
    this.usage = usageRepo(c);
    this.integrations = integrationsRepo(c);
    this.sealedKeys = sealedKeysRepo(c);
    this.routingRules = routingRulesRepo(c);
    this.deliveries = deliveriesRepo(c);
    this.operations = operationsRepo(c);
    this.oauthConnections = oauthConnectionsRepo(c);
  }

  /** The number of migrations applied (PRAGMA user_version); 0 for a new database. */
  schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  async migrate(): Promise<void> {
    const current = this.schemaVersion();
    for (let v = current; v < SQLITE_MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(SQLITE_MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      }).immediate();
    }
  }

  async ping(): Promise<void> {
    this.c.sql('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
