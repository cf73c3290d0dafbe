// The Store on SQL, written once for SQLite and PostgreSQL with Kysely. One repository file per
// concern; this class only composes them. The dialect classes (sqlite/store.ts, postgres/store.ts)
// open the database, migrate it and supply the rate-limit counters.
import { sql } from 'kysely';
import type { Store } from '../types.ts';
import type { SqlConnection } from './connection.ts';
import { tenantsRepo, apiKeysRepo, oauthClientsRepo, revokedTokensRepo, auditRepo, usageRepo } from './access.ts';
import { webhookSubscriptionsRepo, inboundEventsRepo } from './webhooks.ts';
import { webhookDeliveriesRepo } from './webhook-deliveries.ts';
import { integrationsRepo, sealedKeysRepo } from './integrations.ts';
import { routingRulesRepo, deliveriesRepo } from './routing.ts';
import { operationsRepo } from './operations.ts';
import { oauthConnectionsRepo } from './oauth.ts';
import { settingsRepo } from './settings.ts';
import { syncRepo } from './sync.ts';

export abstract class SqlStore implements Store {
  readonly kind: Store['kind'];
  abstract readonly rateLimits: Store['rateLimits'];
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
  readonly settings: Store['settings'];
  readonly sync: Store['sync'];

  constructor(readonly conn: SqlConnection) {
    const c = conn;
    this.kind = c.dialect;
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
    this.settings = settingsRepo(c);
    this.sync = syncRepo(c);
  }

  abstract migrate(): Promise<void>;
  /** The number of migrations applied; 0 for a new database. */
  abstract schemaVersion(): Promise<number>;

  async ping(): Promise<void> {
    await sql`SELECT 1`.execute(this.conn.db);
  }

  async close(): Promise<void> {
    await this.conn.db.destroy();
  }
}
