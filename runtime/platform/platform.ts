// The composition root: configuration -> store -> keyring -> engine -> services -> jobs.
// `plugboard serve`, `plugboard worker` and the tests build the system through here.
import os from 'node:os';
import { pino, type Logger } from 'pino';
import type { Config } from '../config/env.ts';
import { ConfigError } from '../errors/plugboard-error.ts';
import { loadConnectorDir } from '../manifest/registry.ts';
import { formatIssue } from '../manifest/load.ts';
import type { Connector } from '../manifest/connector.ts';
import { openStore, sqlitePathFromUrl } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { openKeyring, checkMasterKey } from './master-key.ts';
import { CredentialCipher } from '../crypto/envelope.ts';
import { Engine } from '../engine/engine.ts';
import { IntegrationService } from '../integrations/service.ts';
import { RoutingService } from '../routing/rules.ts';
import { OperationService } from '../operations/service.ts';
import { OperationSweeper } from '../operations/sweeper.ts';
import { createAgenda, queueDepth, type PlugboardAgenda } from '../jobs/agenda.ts';
import { JobScheduler, defineJobs } from '../jobs/definitions.ts';
import { SyncService } from '../sync/service.ts';
import { Metrics } from './metrics.ts';
import { OAuthService } from '../access/oauth.ts';
import { ApiRateLimiter } from '../access/rate-limits.ts';
import { AuthThrottle } from '../access/auth-throttle.ts';
import { AuditLog } from '../access/audit.ts';
import { AccessService } from '../access/service.ts';
import { UsageCollector } from '../access/usage.ts';
import { LastUsedTracker } from '../access/api-keys.ts';
import { EventBus } from '../webhooks/events.ts';
import { SubscriptionService } from '../webhooks/subscriptions.ts';
import { WebhookDispatcher } from '../webhooks/dispatcher.ts';
import { InboundWebhooks } from '../webhooks/inbound.ts';
import { WebhookManagement } from '../webhooks/management.ts';
import { policyFromEnv } from '../webhooks/url-policy.ts';
import { closeSenderAgents } from '../webhooks/sender.ts';
import { OAuthTokens } from '../oauth/tokens.ts';
import { OAuthConnections } from '../oauth/service.ts';


export interface Platform {
  config: Config;
  logger: Logger;
  connectors: Map<string, Connector>;
  store: Store;
  keyring: Keyring;
  engine: Engine;
  integrations: IntegrationService;
  routing: RoutingService;
  operations: OperationService;
  /** Streams read into records: runs, schedules, GET /records. */
  sync: SyncService;
  agenda: PlugboardAgenda;
  metrics: Metrics;
  oauth: OAuthService;
  /** Plugboard as an OAuth client of providers: connect, callback, token refresh, revocation. */
  connections: OAuthConnections;
  rateLimiter: ApiRateLimiter;
  /** Failed authentications per client address and OAuth client id (brute-force throttling). */
  authThrottle: AuthThrottle;
  audit: AuditLog;
  access: AccessService;
  usage: UsageCollector;
  lastUsed: LastUsedTracker;
  events: EventBus;
  subscriptions: SubscriptionService;
  dispatcher: WebhookDispatcher;
  inbound: InboundWebhooks;
  /** Testing and replaying subscriptions, deliveries, REST-hook samples, reprocessing inbound events. */
  webhooks: WebhookManagement;
  /** Agenda jobs, webhook deliveries and inbound events due and not done yet (the queue-depth metric). */
  jobsQueueDepth(): Promise<number>;
  /** Starts processing jobs (serve without --no-jobs, worker). */
  startJobs(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The jobs backend URL for the application's own database (PLUGBOARD_JOBS_URL unset): the SQLite
 * file, or the PostgreSQL URL itself (createJobsBackend reads its pool_size, statement_timeout and
 * schema, so Agenda's table lands in the store's schema).
 */
function jobsUrlOf(databaseUrl: string): string {
  const file = sqlitePathFromUrl(databaseUrl);
  return file ? `sqlite:${file}` : databaseUrl;
}

export async function createPlatform(config: Config, opts: { logger?: Logger; env?: NodeJS.ProcessEnv } = {}): Promise<Platform> {
  const env = opts.env ?? process.env;
  const logger = opts.logger ?? pino({ level: config.logLevel, redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie'], censor: '[REDACTED]' } });
  const reg = loadConnectorDir(config.connectorsDir);
  if (reg.issues.length) throw new ConfigError(`manifest problems (run plugboard validate):\n${reg.issues.map(formatIssue).join('\n')}`);

  // The master key first (with PostgreSQL it must be given), then the database it has to fit.
  const keyring = openKeyring(config.databaseUrl, env);
  const store = await openStore(config.databaseUrl);
  let agenda: PlugboardAgenda | undefined;
  try {
    await checkMasterKey(store, keyring);
    // Jobs live in the application's database unless PLUGBOARD_JOBS_URL names another. The jobs
    // backend opens its own connection to it (the same file, or the same PostgreSQL database and
    // schema), so the store never hands its connection out.
    agenda = createAgenda({
      jobsUrl: config.jobsUrl ?? jobsUrlOf(config.databaseUrl),
      processEvery: config.jobsPollMs,
      defaultLockLifetime: config.jobsLockMs,
    });
    await agenda.ready;
    const jobsVariable = config.jobsUrl ? 'PLUGBOARD_JOBS_URL' : 'PLUGBOARD_DATABASE_URL (PLUGBOARD_JOBS_URL unset)';
    if (agenda.connectError) throw new ConfigError(`${jobsVariable}: cannot connect the jobs backend: ${agenda.connectError.message}`);
    return await assemble(config, env, logger, reg.connectors, store, keyring, agenda);
  } catch (err) {
    // Nothing half-built stays open (PostgreSQL pools, Agenda's LISTEN connection).
    await agenda?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw err;
  }
}

/** Wires the services on an open store, a checked keyring and a connected jobs backend. */
async function assemble(config: Config, env: NodeJS.ProcessEnv, logger: Logger, connectors: Map<string, Connector>, store: Store, keyring: Keyring, agenda: PlugboardAgenda): Promise<Platform> {
  const reg = { connectors };
  const cipher = new CredentialCipher(keyring);
  const engine = new Engine({ env, allowPrivateProviders: config.allowPrivateProviders });
  const metrics = new Metrics();
  const scheduler = new JobScheduler(agenda);

  const events = new EventBus(store, logger);
  // The services record their own changes; a failed audit write is logged here, never a 500.
  const audit = new AuditLog(store, logger);
  const urlPolicy = () => policyFromEnv(env);
  const subscriptions = new SubscriptionService(store, cipher, urlPolicy, audit);
  const dispatcher = new WebhookDispatcher(store, subscriptions, events, logger, {
    policy: urlPolicy,
    schedule: config.webhookRetryScheduleMs,
    disableAfterMs: config.webhookDisableAfterMs,
    pollMs: config.jobsPollMs,
    leaseMs: config.webhookLeaseMs,
    onAttempt: (outcome) => metrics.webhookAttempts.inc({ outcome }),
  });
  events.onDeliveries(() => dispatcher.notify());
  const integrations = new IntegrationService(store, reg.connectors, cipher, engine, scheduler, logger, audit, events);
  await integrations.adoptLegacyEnvironments();
  const routing = new RoutingService(store, reg.connectors, audit);
  const sync = new SyncService(store, reg.connectors, integrations, engine, events, scheduler, audit, logger, { leaseMs: config.syncLeaseMs, holder: `${os.hostname()}:${process.pid}`, triggerDebounceMs: config.syncTriggerDebounceMs });
  const operations = new OperationService(store, reg.connectors, engine, routing, integrations, logger, metrics, events, {
    leaseMs: config.operationLeaseMs, writeBack: (...a) => sync.writeBack(...a),
  });
  const operationSweeper = new OperationSweeper(operations, logger);
  const inbound = new InboundWebhooks(store, reg.connectors, integrations, events, logger, { pollMs: config.jobsPollMs, leaseMs: config.webhookLeaseMs, publicUrlSet: !!config.publicUrl, perSecond: config.inboundPerSecond,
    onRejected: (provider, code) => metrics.inboundRejected.inc({ provider, code }),
    onTrigger: async (tenantId, integrationId, stream) => void (await sync.trigger(tenantId, integrationId, stream)) });
  const oauthTokens = new OAuthTokens({
    store, cipher, connectors: reg.connectors, env, logger, events, refreshScheduler: scheduler,
    baseUrlOf: (c, row) => {
      try {
        return engine.baseUrl(c, { integration: { environment: row?.environment ?? undefined }, ...(row?.connection ? { connection: row.connection } : {}) });
      } catch {
        return ''; // no base URL known before the connection (a templated base_url): absolute endpoints only
      }
    },
  });
  const connections = new OAuthConnections(store, reg.connectors, cipher, oauthTokens, scheduler, logger, audit, {
    publicUrl: () => config.publicUrl,
    allowedReturnOrigins: config.allowedReturnOrigins,
    env,
    callbackBudget: { refusals: config.authThrottle.callbackFailuresPerAddress, windowSeconds: config.authThrottle.windowSeconds },
  });
  integrations.useOAuth(connections);
  // An integration that becomes active gets its streams' recurring runs (wherever it was verified).
  events.onEvent('integration.activated', (tenantId, data) =>
    void sync.scheduleFor(tenantId, String(data['integration_id'])).catch((err: Error) => logger.error({ err: err.message }, 'cannot schedule sync streams')));
  defineJobs(agenda, { integrations, oauthTokens, sync, logger, lockLifetimeMs: config.jobsLockMs });
  const authThrottle = new AuthThrottle(store, {
    perAddress: { failures: config.authThrottle.failuresPerAddress, windowSeconds: config.authThrottle.windowSeconds },
    perClientId: { failures: config.authThrottle.failuresPerClient, windowSeconds: config.authThrottle.windowSeconds },
  });
  const oauth = new OAuthService(store, keyring, config.publicUrl ?? 'plugboard', authThrottle);
  const rateLimiter = new ApiRateLimiter(store);
  const access = new AccessService(store, oauth, audit);
  const usage = new UsageCollector(store);
  const lastUsed = new LastUsedTracker(store);

  return {
    config, logger, connectors: reg.connectors, store, keyring, engine, integrations, routing, operations, sync, agenda, metrics,
    oauth, connections, rateLimiter, authThrottle, audit, access, usage, lastUsed, events, subscriptions, dispatcher, inbound,
    webhooks: new WebhookManagement(store, subscriptions, events, dispatcher, inbound, audit),
    // Everything due and not done: Agenda jobs, and the rows the webhook workers lease.
    jobsQueueDepth: async () => {
      const now = Date.now();
      const [jobs, deliveries, inboundEvents] = await Promise.all([queueDepth(agenda), store.webhookDeliveries.countDue(now), store.inboundEvents.countDue(now)]);
      return jobs + deliveries + inboundEvents;
    },
    async startJobs() {
      await agenda.start();
      await sync.scheduleAll().catch((err: Error) => logger.error({ err: err.message }, 'cannot schedule sync streams'));
      // deliver-webhook and process-inbound-webhook: durable rows leased by the workers.
      dispatcher.start();
      inbound.start();
      operationSweeper.start();
    },
    async close() {
      // stop() unlocks jobs this process holds so another worker can take them at once.
      await Promise.all([dispatcher.stop(), inbound.stop(), operationSweeper.stop()]);
      // close(): stop, then close the jobs backend's own connection even when jobs never started.
      await agenda.close().catch((err: Error) => logger.warn({ err: err.message }, 'stopping jobs failed'));
      await closeSenderAgents();
      await engine.close(); // SMTP connection pools
      await usage.close();
      await lastUsed.close();
      await store.close();
    },
  };
}
