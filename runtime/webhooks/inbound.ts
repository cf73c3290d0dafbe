// Inbound provider webhooks: verify the signature over the raw body, store the event (deduplicated
// by the provider's event id) before answering, then map it to a normalized event in the
// process-inbound-webhook worker and fan it out to subscriptions.
import qs from 'qs';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Logger } from 'pino';
import type { Store, InboundEventRow, IntegrationRow, ListQuery } from '../store/types.ts';
import { UniqueViolation } from '../store/types.ts';
import type { Connector } from '../manifest/connector.ts';
import { newId } from '../store/ids.ts';
import { verify } from './inbound-signatures.ts';
import type { EventPublisher } from './events.ts';
import { PollingWorker } from './polling-worker.ts';
import { InboundRejections } from './inbound-rejections.ts';
import { PlugboardError } from '../errors/plugboard-error.ts';
import { OpenedCache } from '../crypto/opened-cache.ts';

/** One warning per integration per this interval while its credentials cannot be opened. */
const UNAVAILABLE_LOG_MS = 60_000;
/** How long an opened signing secret is kept in memory (never logged, never stored). */

/** An integration's rendered signing secret and what it was rendered from (any change is a miss). */
export interface InboundRequest {
  provider: string;
  integrationId: string;
  rawBody: Buffer;
  headers: Record<string, string | string[] | undefined>;
  /** The public URL the provider called (Twilio signs it). */
  url: string;
}

export interface InboundAnswer {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

export const MAX_INBOUND_BYTES = 1024 * 1024;

export function parseInboundBody(raw: Buffer, contentType: string | undefined): unknown {
  const text = raw.toString('utf8');
  if (/application\/x-www-form-urlencoded/i.test(contentType ?? '')) return qs.parse(text);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** How inbound verification reads an integration's secrets (the integrations service implements it;
 *  injected so webhooks never import the integrations layer). */
export interface CredentialOpener {
  openCredentials(row: IntegrationRow): Record<string, unknown>;
}

export class InboundWebhooks extends PollingWorker {
  // The endpoint is public (providers sign, they do not log in): cap what one integration id can take.
  private readonly limiter: RateLimiterMemory;
  /** Counters and a bounded sample of rejected (unauthenticated) requests. */
  readonly rejections: InboundRejections;
  /** When each integration last logged that its credentials cannot be opened. */
  private readonly unavailableLogged = new Map<string, number>();
  /** Signing secrets opened from the sealed credentials (and rendered), per integration. */
  private readonly secrets = new OpenedCache<string | undefined>();

  constructor(
    private readonly store: Store,
    private readonly connectors: Map<string, Connector>,
    private readonly integrations: CredentialOpener,
    private readonly events: EventPublisher,
    private readonly logger: Logger,
    private readonly opts: {
      pollMs: number; leaseMs?: number; publicUrlSet?: boolean; perSecond?: number; onRejected?: (provider: string, code: string) => void;
      /** Hybrid sync: an event whose mapping `triggers` a stream starts a (debounced) incremental run of it. */
      onTrigger?: (tenantId: string, integrationId: string, stream: string) => Promise<void>;
    } = { pollMs: 1000 },
  ) {
    super(opts.pollMs, (err) => logger.error({ err: (err as Error).message }, 'inbound webhook round failed'));
    this.limiter = new RateLimiterMemory({ keyPrefix: 'inbound', points: opts.perSecond ?? 200, duration: 1 });
    this.rejections = new InboundRejections(store, (err) => logger.error({ err: (err as Error).message }, 'storing inbound rejection counts failed'));
  }

  /** Inbound events, newest first; rejected ones are the bounded sample (see InboundRejections). */
  async listEvents(tenantId: string, q: ListQuery & { status?: string; integration_id?: string }) {
    await this.rejections.flush();
    return this.store.inboundEvents.list(tenantId, q);
  }

  override async stop(): Promise<void> {
    await super.stop();
    await this.rejections.flush();
  }

  async receive(req: InboundRequest): Promise<InboundAnswer> {
    try {
      await this.limiter.consume(req.integrationId);
    } catch (res) {
      const wait = Math.max(1, Math.ceil(((res as { msBeforeNext?: number }).msBeforeNext ?? 1000) / 1000));
      return { status: 429, headers: { 'Retry-After': String(wait) }, body: { success: false, message: 'Too many webhook requests for this integration.', code: 'rate_limited' } };
    }
    const integration = await this.store.integrations.getForInbound(req.integrationId);
    // Same answer for "no such integration" and "another provider's": nothing to probe.
    if (!integration || integration.provider !== req.provider) return { status: 404, body: { success: false, message: 'Not found.' } };
    const connector = this.connectors.get(integration.provider);
    const hooks = connector?.webhooks;
    if (!hooks) return { status: 404, body: { success: false, message: `${req.provider} does not send webhooks to Plugboard.` } };
    const contentType = typeof req.headers['content-type'] === 'string' ? req.headers['content-type'] : undefined;
    let secret: string | undefined;
    try {
      secret = this.signingSecret(integration, hooks);
    } catch (err) {
      // E.g. the master key that wrapped its data key is not in this server's keyring: the provider
      // should retry later. Logged once per integration per interval, not per (unauthenticated) request.
      if (!(err instanceof PlugboardError) || err.kind !== 'unavailable') throw err;
      this.warnUnavailable(integration.id, integration.provider, err);
      return { status: 503, headers: { 'Retry-After': String(err.retryAfter ?? 60) }, body: { success: false, message: 'Webhooks for this integration cannot be verified right now; retry later.', code: 'unavailable' } };
    }
    const sig = hooks.spec.signature;
    const result = verify(sig.scheme, {
      rawBody: req.rawBody,
      headers: req.headers,
      url: req.url,
      secret,
      options: { header: sig.header, prefix: sig.prefix, encoding: sig.encoding as 'hex' | 'base64' | undefined, tolerance_seconds: sig.tolerance_seconds, digest: sig.digest },
    });
    if (!result.ok) {
      // Unauthenticated input: counted, with a bounded sample of reasons; never the body.
      const hint = sig.scheme === 'twilio' && !this.opts.publicUrlSet ? ' (Twilio signs the public URL: set PLUGBOARD_PUBLIC_URL behind a proxy)' : '';
      const first = this.rejections.record({ tenant_id: integration.tenant_id, integration_id: integration.id, provider: integration.provider, content_type: contentType ?? null, code: result.code, reason: `${result.reason}${hint}` });
      this.opts.onRejected?.(integration.provider, result.code);
      // One log line per integration and reason per flush interval, not one per forged request.
      if (first) this.logger.warn({ integrationId: integration.id, provider: integration.provider, code: result.code }, 'inbound webhook rejected (further ones are counted: GET /webhooks/inbound-rejections)');
      return { status: 401, body: { success: false, message: 'Invalid webhook signature.', code: result.code } };
    }

    const base: Omit<InboundEventRow, 'status' | 'reason' | 'provider_event_id' | 'provider_event_type'> = {
      id: newId(),
      tenant_id: integration.tenant_id,
      integration_id: integration.id,
      provider: integration.provider,
      content_type: contentType ?? null,
      body: req.rawBody.toString('utf8'),
      normalized_event_id: null,
      next_attempt_at: null,
      locked_until: null,
      attempts: 0,
      received_at: new Date().toISOString(),
      processed_at: null,
    };
    const payload = parseInboundBody(req.rawBody, contentType);
    if (hooks.handshake && (await hooks.handshake.when.evaluate(payload).catch(() => false))) {
      const answer = await hooks.handshake.response.evaluate(payload).catch(() => undefined);
      return answer && typeof answer === 'object' ? { status: 200, body: answer as Record<string, unknown> } : { status: 400, body: { success: false, message: 'Cannot answer the handshake.' } };
    }
    const eventId = hooks.eventId ? await hooks.eventId.evaluate(payload).catch(() => undefined) : undefined;
    const eventType = hooks.eventType ? await hooks.eventType.evaluate(payload).catch(() => undefined) : undefined;
    try {
      await this.store.inboundEvents.create({
        ...base,
        status: 'received',
        reason: null,
        provider_event_id: eventId === undefined || eventId === null ? null : String(eventId),
        provider_event_type: eventType === undefined || eventType === null ? null : String(eventType),
        next_attempt_at: Date.now(),
      });
    } catch (err) {
      if (err instanceof UniqueViolation) return { status: 200, body: { success: true, message: 'Already received.', data: { duplicate: true } } };
      throw err;
    }
    this.notify();
    return { status: 202, body: { success: true, message: 'Accepted.', data: { id: base.id } } };
  }

  /**
   * The integration's signing secret, opened from its sealed credentials or taken from memory when
   * the row still holds the same sealed blob, credentials version, master key and metadata (every
   * request reads the row, so a change made by any process is seen by the next request).
   */
  private signingSecret(integration: IntegrationRow, hooks: NonNullable<Connector['webhooks']>): string | undefined {
    const tag = `${integration.credentials_version}\0${integration.master_key_id}\0${JSON.stringify(integration.metadata ?? {})}`;
    return this.secrets.get(integration.id, integration.credentials_sealed, tag, () => {
      const credentials = this.integrations.openCredentials(integration);
      return hooks.secret?.render({ credentials, integration: { id: integration.id, metadata: integration.metadata } }) || undefined;
    });
  }

  private warnUnavailable(integrationId: string, provider: string, err: PlugboardError): void {
    const now = Date.now();
    const last = this.unavailableLogged.get(integrationId);
    if (last !== undefined && now - last < UNAVAILABLE_LOG_MS) return;
    if (this.unavailableLogged.size >= 10_000) this.unavailableLogged.clear();
    this.unavailableLogged.set(integrationId, now);
    this.logger.warn({ integrationId, provider, code: err.code, err: err.message }, 'inbound webhook answered 503: the integration credentials cannot be opened (further ones are not logged for a minute)');
  }

  protected async round(): Promise<boolean> {
    try {
      const batch = await this.store.inboundEvents.claimDue(Date.now(), this.opts.leaseMs ?? 60_000, 50);
      for (const ev of batch) await this.process(ev);
      return batch.length > 0;
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'processing inbound webhooks failed');
      return false;
    }
  }

  /** The process-inbound-webhook job: provider event -> normalized event -> subscriptions. */
  async process(ev: InboundEventRow): Promise<InboundEventRow['status']> {
    const hooks = this.connectors.get(ev.provider)?.webhooks;
    const finish = (status: InboundEventRow['status'], reason: string | null, normalized: string | null = null, type = ev.provider_event_type) =>
      this.store.inboundEvents.finish(ev.tenant_id, ev.id, { status, reason, normalized_event_id: normalized, processed_at: new Date().toISOString(), next_attempt_at: null, attempts: ev.attempts + 1, provider_event_type: type });
    if (!hooks) {
      await finish('failed', 'the connector no longer declares webhooks');
      return 'failed';
    }
    const payload = parseInboundBody(Buffer.from(ev.body, 'utf8'), ev.content_type ?? undefined);
    const type = ev.provider_event_type ?? (hooks.eventType ? String((await hooks.eventType.evaluate(payload).catch(() => '')) ?? '') : '');
    const mapping = hooks.events.get(type);
    if (!mapping) {
      await finish('ignored', `no mapping for provider event "${type}"`, null, type);
      return 'ignored';
    }
    if (mapping.triggers) {
      // Before the normalized event: a trigger is idempotent (debounced), so reprocessing is harmless.
      await this.opts.onTrigger?.(ev.tenant_id, ev.integration_id, mapping.triggers).catch((err: Error) =>
        this.logger.warn({ inboundEventId: ev.id, stream: mapping.triggers, err: err.message }, 'inbound webhook could not trigger its stream; the next scheduled or reconcile run catches up'));
    }
    if (!mapping.type) {
      await finish('processed', null, null, type);
      return 'processed';
    }
    let data: Record<string, unknown>;
    try {
      data = mapping.data ? ((await mapping.data.evaluate(payload)) as Record<string, unknown>) : {};
    } catch (err) {
      await finish('failed', `mapping failed: ${(err as Error).message}`.slice(0, 500), null, type);
      return 'failed';
    }
    try {
      // The normalized event's id is this inbound event's id: processing it twice (a crash between
      // publish and finish) stores nothing twice, and subscribers see one webhook-id.
      await this.events.publish(ev.tenant_id, mapping.type, { ...data, integration_id: ev.integration_id, provider: ev.provider }, { source: 'inbound', eventId: ev.id });
    } catch (err) {
      if (!(err instanceof UniqueViolation)) {
        const message = (err as Error).message;
        if (/does not match its schema|unknown event type/.test(message) || ev.attempts >= 4) {
          await finish('failed', message.slice(0, 500), null, type);
          this.logger.warn({ inboundEventId: ev.id, err: message }, 'inbound webhook could not be mapped');
          return 'failed';
        }
        // Transient (e.g. a busy database): try again with backoff.
        await this.store.inboundEvents.finish(ev.tenant_id, ev.id, { status: 'received', reason: message.slice(0, 500), normalized_event_id: null, processed_at: null, next_attempt_at: Date.now() + 1000 * 4 ** ev.attempts, attempts: ev.attempts + 1, provider_event_type: type });
        return 'received';
      }
    }
    await finish('processed', null, ev.id, type);
    return 'processed';
  }
}
