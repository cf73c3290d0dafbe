// Write-back: a capability that declares `record:` (create_contact, update_contact, …) writes its
// result into the stream's records when it succeeds, so GET /records right after the write already
// shows it, and announces the change like a synced one (sync_run_id null). The mapping gives the
// fields the capability knows; the ones it leaves out keep their stored values. A result that does
// not make a valid model is logged and skipped: the operation itself has succeeded regardless, and
// the next sync run brings the provider's full record.
import type { Logger } from 'pino';
import type { Store, OutboxItem } from '../store/types.ts';
import type { RecordChanges } from '../store/sync-types.ts';
import type { Connector } from '../manifest/connector.ts';
import type { EventStager } from '../webhooks/events.ts';
import { modelErrors } from '../manifest/models.ts';
import { changeEvents } from './record-events.ts';
import { hashOf } from './record-hash.ts';

export interface WriteBackDeps {
  store: Store;
  connectors: Map<string, Connector>;
  events: EventStager;
  logger: Logger;
}

/** What was written: 'created' | 'updated' | 'unchanged', or undefined when nothing was (no `record:`, or a result that is no valid model). */
export async function writeBack(d: WriteBackDeps, tenantId: string, integrationId: string, capability: string, input: unknown, output: unknown): Promise<string | undefined> {
  const row = await d.store.integrations.get(tenantId, integrationId);
  const connector = row && d.connectors.get(row.provider);
  const wb = connector?.capabilities.get(capability)?.record;
  const stream = wb && connector?.streams.get(wb.stream);
  if (!row || !wb || !stream) return undefined;
  const log = { tenantId, integrationId, capability, stream: stream.name };
  let mapped: unknown;
  try {
    mapped = await wb.mapping.evaluate({ input, output });
  } catch (err) {
    d.logger.warn({ ...log, err: (err as Error).message }, 'write-back: the record mapping failed; records catch up at the next sync run');
    return undefined;
  }
  const fields = mapped && typeof mapped === 'object' && !Array.isArray(mapped) ? (mapped as Record<string, unknown>) : undefined;
  const k = fields?.[stream.primaryKey];
  const key = (typeof k === 'string' && k !== '') || (typeof k === 'number' && Number.isFinite(k)) ? String(k) : undefined;
  if (!fields || key === undefined) {
    d.logger.warn(log, `write-back: the record mapping gave no ${stream.primaryKey}; nothing written`);
    return undefined;
  }
  const stored = await d.store.sync.getRecord(tenantId, integrationId, stream.name, key);
  const data = { ...(stored && stored.deleted_at === null ? stored.data : {}), ...fields };
  const errors = modelErrors(stream.model, data);
  if (errors.length) {
    d.logger.warn({ ...log, key, errors: errors.slice(0, 5) }, `write-back: the result is not a valid ${stream.model}; nothing written`);
    return undefined;
  }
  const stage = await d.events.stage(tenantId, { source: 'sync' });
  let built: OutboxItem[] = [];
  const scope = { integrationId, provider: row.provider, stream: stream.name, model: stream.model, runId: null };
  const now = new Date().toISOString();
  const outcome = await d.store.sync.upsertOne({
    tenant_id: tenantId, integration_id: integrationId, provider: row.provider, stream: stream.name, model: stream.model, key, data, hash: hashOf(data), now,
    outbox: (changes: RecordChanges) => (built = stage.build(changeEvents(scope, changes, now))),
  });
  stage.announce(built);
  return outcome;
}
