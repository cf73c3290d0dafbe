// The events a stream's record changes announce: `<model>.created`, `.updated` and `.deleted`
// (schemas/events), one per record, written to the webhook outbox in the same transaction as the
// page that changed them. contact.created and contact.updated already exist for contacts that
// inbound provider webhooks announce, so a synced contact fills their flat fields too: a
// subscriber reads one shape whichever way the change arrived (stream and sync_run_id tell a
// synced one apart).
import type { RecordChanges, SyncRecordWrite } from '../store/sync-types.ts';

export interface RecordScope {
  integrationId: string;
  provider: string;
  stream: string;
  model: string;
  /** null: a capability's result written back outside a run. */
  runId: string | null;
}

type EventItem = { type: string; data: Record<string, unknown> };

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function base(scope: RecordScope, key: string): Record<string, unknown> {
  return { integration_id: scope.integrationId, provider: scope.provider, stream: scope.stream, sync_run_id: scope.runId, record_id: key };
}

/** contact.created / contact.updated: the inbound events' flat fields, from the contact model. */
function contactFields(r: SyncRecordWrite, action: 'created' | 'updated', now: string): Record<string, unknown> {
  const d = r.data;
  const at = action === 'created' ? str(d['created_at']) ?? now : str(d['updated_at']) ?? now;
  return {
    contact_id: r.key, email: str(d['email']), first_name: str(d['first_name']), last_name: str(d['last_name']), phone: str(d['phone']), company: str(d['company']),
    ...(d['custom_fields'] && typeof d['custom_fields'] === 'object' ? { custom_fields: d['custom_fields'] } : {}),
    [action === 'created' ? 'created_at' : 'updated_at']: at,
  };
}

function changed(scope: RecordScope, r: SyncRecordWrite, action: 'created' | 'updated', now: string): EventItem {
  const data = { ...base(scope, r.key), record: r.data, ...(scope.model === 'contact' ? contactFields(r, action, now) : {}) };
  return { type: `${scope.model}.${action}`, data };
}

/** One event per created and updated record. */
export function changeEvents(scope: RecordScope, changes: RecordChanges, now: string): EventItem[] {
  return [...changes.created.map((r) => changed(scope, r, 'created', now)), ...changes.updated.map((r) => changed(scope, r, 'updated', now))];
}

/** One `<model>.deleted` per record a full refresh no longer saw. */
export function deleteEvents(scope: RecordScope, keys: string[], now: string): EventItem[] {
  return keys.map((key) => ({ type: `${scope.model}.deleted`, data: { ...base(scope, key), deleted_at: now } }));
}
