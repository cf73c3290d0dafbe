// Write-back: a capability that declares `record:` (create_contact, update_contact, …) writes its
// result into the stream's records when it succeeds, so GET /records right after the write already
// shows it, and announces the change like a synced one (sync_run_id null). The mapping gives the
// fields the capability knows; the ones it leaves out keep their stored values (`update_only`: only
// over a record the stream already has). A mapping that gives null writes nothing (a call the stream
// does not cover). A result that does not make a valid model is logged and skipped: the operation
// itself has succeeded regardless, and the next sync run brings the provider's full record.
import type { Logger } from 'pino';
import type { Store, OutboxItem } from '../store/types.ts';
import type { RecordChanges } from '../store/sync-types.ts';
import type { Connector } from '../manifest/connector.ts';
import type { EventStager } from '../webhooks/events.ts';
import { modelErrors } from '../manifest/models.ts';
import { keyOf } from '../engine/stream.ts';
import { changeEvents } from './record-events.ts';
import { canonical } from './record-hash.ts';

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
  // A mapping may give nothing on purpose (a call the stream does not cover: another calendar).
  if (mapped === undefined || mapped === null) return undefined;
  const fields = typeof mapped === 'object' && !Array.isArray(mapped) ? (mapped as Record<string, unknown>) : undefined;
  const key = keyOf(fields, stream.primaryKey);
  if (!fields || key === null) {
    d.logger.warn(log, `write-back: the record mapping gave no ${stream.primaryKey}; nothing written`);
    return undefined;
  }
  const stage = await d.events.stage(tenantId, { source: 'sync' });
  let built: OutboxItem[] = [];
  const scope = { integrationId, provider: row.provider, stream: stream.name, model: stream.model, runId: null };
  const now = new Date().toISOString();
  let invalid: string[] = [];
  // The merge happens inside the write's transaction: a page committed meanwhile is merged over, not overwritten.
  const outcome = await d.store.sync.mergeOne({
    tenant_id: tenantId, integration_id: integrationId, provider: row.provider, stream: stream.name, model: stream.model, key, now,
    build: (stored) => {
      const live = stored && stored.deleted_at === null ? stored.data : undefined;
      // update_only: a partial result (cancel, update) only amends a record the stream already has.
      if (!live && wb.updateOnly) return undefined;
      const data = { ...(live ?? {}), ...fields };
      invalid = modelErrors(stream.model, data);
      return invalid.length ? undefined : { data, ...canonical(data) };
    },
    outbox: (changes: RecordChanges) => (built = stage.build(changeEvents(scope, changes, now))),
  });
  if (invalid.length) d.logger.warn({ ...log, key, errors: invalid.slice(0, 5) }, `write-back: the result is not a valid ${stream.model}; nothing written`);
  stage.announce(built);
  return outcome === 'skipped' ? undefined : outcome;
}
