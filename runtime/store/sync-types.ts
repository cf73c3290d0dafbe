// The sync part of the Store port: per stream state (incremental cursor, resume token, the lease
// that lets one process at a time run a stream of an integration), sync runs, and the records a
// stream keeps, upserted by (tenant, integration, stream, key).
import type { ListQuery, ListResult } from './list.ts';
import type { OutboxItem } from './outbox-types.ts';

export interface SyncStateRow {
  tenant_id: string;
  integration_id: string;
  stream: string;
  /** The committed incremental cursor (sync.cursor of the next run). */
  cursor: string | null;
  /** JSON of the engine's PageRequest for the page after the last committed one (null: start at page 1). */
  resume: string | null;
  /** The run in progress (set by startRun, cleared by finishRun). */
  run_id: string | null;
  lease_holder: string | null;
  /** Epoch ms. */
  lease_until: number | null;
  updated_at: string;
  /** Epoch ms a webhook-triggered run is due (null: none pending). */
  trigger_due_at: number | null;
}

export type SyncRunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface SyncRunRow {
  id: string;
  tenant_id: string;
  integration_id: string;
  stream: string;
  full_refresh: boolean;
  status: SyncRunStatus;
  started_at: string;
  finished_at: string | null;
  pages: number;
  /** Every record the pages carried, valid or not. */
  records_read: number;
  records_created: number;
  records_updated: number;
  records_deleted: number;
  records_invalid: number;
  /** Primary keys of the first 100 invalid records. */
  invalid_keys: string[];
  cursor: string | null;
  error: string | null;
}

export interface RecordRow {
  tenant_id: string;
  integration_id: string;
  provider: string;
  stream: string;
  model: string;
  key: string;
  data: Record<string, unknown>;
  /** Hash of the mapped record (computed by the caller); an unchanged hash is no update. */
  hash: string;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  /** The last run whose pages carried the record (null: written back outside a run, not seen since). */
  seen_run_id: string | null;
}

export interface SyncRecordWrite {
  key: string;
  data: Record<string, unknown>;
  hash: string;
  /** `data` as JSON when the caller already has it (stored as given). */
  json?: string;
}

export interface SyncPage {
  tenantId: string;
  integrationId: string;
  provider: string;
  stream: string;
  model: string;
  runId: string;
  /** The lease holder: the page is committed only while it still holds the stream's lease. */
  holder: string;
  /** A key carried twice in one page is stored once (the last one wins). */
  records: SyncRecordWrite[];
  invalidKeys: string[];
  cursor: string | null;
  /** JSON PageRequest of the next page (null after the last page). */
  resume: string | null;
  /** ISO timestamp of the commit. */
  now: string;
  /** Events the page's changes announce, written to the outbox in the page's own transaction. */
  outbox?: (changes: RecordChanges) => OutboxItem[];
}

/** What a write changed: the records created and updated (unchanged ones are left out). */
export interface RecordChanges {
  created: SyncRecordWrite[];
  updated: SyncRecordWrite[];
}

export interface SyncRecordFilter extends ListQuery {
  stream?: string;
  integration_id?: string;
  /** ISO timestamp: records updated at or after it. */
  updated_since?: string;
  /** Soft-deleted records too (default: live ones only). */
  include_deleted?: boolean;
}

export type SyncWriteOutcome = 'created' | 'updated' | 'unchanged';

export interface SyncStore {
  /**
   * Takes the stream's lease until `untilMs` when it is free, expired at `nowMs`, or already
   * `holder`'s (creating the state row on first use); answers the state row, or undefined when
   * another holder has it.
   */
  acquire(tenantId: string, integrationId: string, stream: string, holder: string, nowMs: number, untilMs: number): Promise<SyncStateRow | undefined>;
  /** Extends the lease; false when `holder` no longer holds it. */
  renew(tenantId: string, integrationId: string, stream: string, holder: string, untilMs: number): Promise<boolean>;
  release(tenantId: string, integrationId: string, stream: string, holder: string): Promise<void>;
  /** Records a new run and makes it the state's run_id. */
  startRun(run: SyncRunRow): Promise<void>;
  /**
   * One transaction, fenced by the lease: upserts the page's records (a new key, or one
   * soft-deleted before, is created; a changed hash is updated; an unchanged one neither, but every
   * record is marked seen by the run), sets the state's cursor and resume token, and adds the page
   * to the run's counters. Undefined, with nothing written, when `holder` no longer holds the lease
   * or `runId` is no longer the state's run (a lease expired but not taken over is still held).
   */
  commitPage(p: SyncPage): Promise<{ created: string[]; updated: string[] } | undefined>;
  /**
   * Full refresh end: soft-deletes the stream's live records the run did not see and counts them in
   * the run; answers their keys. Nothing happens (and [] is answered) when `runId` is no longer the
   * state's run (another run took the stream over).
   */
  deleteUnseen(tenantId: string, integrationId: string, stream: string, runId: string, now: string, outbox?: (keys: string[]) => OutboxItem[]): Promise<string[]>;
  /**
   * Marks a webhook-triggered run of the stream as due at `dueMs` unless one is already pending
   * (due at or after `staleMs`: an older mark whose run never came is replaced). True when marked:
   * the caller queues the run. Cleared when any run of the stream starts (startRun).
   */
  markTriggered(tenantId: string, integrationId: string, stream: string, dueMs: number, staleMs: number): Promise<boolean>;
  /** Clears the stream's trigger mark (its run will not come: given up, or the integration is not active). */
  clearTrigger(tenantId: string, integrationId: string, stream: string): Promise<void>;
  /** A run of the stream has succeeded before (the first one is the backfill). */
  hasSucceeded(tenantId: string, integrationId: string, stream: string): Promise<boolean>;
  /**
   * Settles a running run and, while it is still the state's run, clears the state's run_id and sets
   * its cursor and resume token when `state` is given (without it, a failed run leaves them as last
   * committed, so the next run resumes there). False when the run is unknown or no longer running.
   */
  finishRun(tenantId: string, runId: string, patch: Pick<SyncRunRow, 'status' | 'finished_at' | 'error' | 'cursor'>, state?: { cursor: string | null; resume: string | null }): Promise<boolean>;
  getState(tenantId: string, integrationId: string, stream: string): Promise<SyncStateRow | undefined>;
  getRun(tenantId: string, runId: string): Promise<SyncRunRow | undefined>;
  /** Newest started first. */
  runs(tenantId: string, integrationId: string, q: ListQuery & { stream?: string }): Promise<ListResult<SyncRunRow>>;
  /** Newest updated first. */
  records(tenantId: string, f: SyncRecordFilter): Promise<ListResult<RecordRow>>;
  /**
   * Writes one record outside a run (write-back after a capability succeeded), with the same
   * created/updated/unchanged rules as commitPage; its seen_run_id is left as it was.
   */
  upsertOne(r: Pick<RecordRow, 'tenant_id' | 'integration_id' | 'provider' | 'stream' | 'model' | 'key' | 'data' | 'hash'> & { now: string; outbox?: (changes: RecordChanges) => OutboxItem[] }): Promise<SyncWriteOutcome>;
  /**
   * Like upsertOne, with the record built from the stored one inside the same transaction (locked
   * on PostgreSQL), so a merge never overwrites a page committed meanwhile. `build` answering
   * undefined writes nothing ('skipped').
   */
  mergeOne(r: Pick<RecordRow, 'tenant_id' | 'integration_id' | 'provider' | 'stream' | 'model' | 'key'> & {
    now: string;
    build: (stored: RecordRow | undefined) => Omit<SyncRecordWrite, 'key'> | undefined;
    outbox?: (changes: RecordChanges) => OutboxItem[];
  }): Promise<SyncWriteOutcome | 'skipped'>;
  /** One live or deleted record by key. */
  getRecord(tenantId: string, integrationId: string, stream: string, key: string): Promise<RecordRow | undefined>;
  /** Deletes an integration's records, sync state and runs (the integration is gone). */
  purge(tenantId: string, integrationId: string): Promise<void>;
}
