// Sync routes: translate HTTP to SyncService calls (DESIGN §3 "Sync").
import type { ApiHandler } from '../handler.ts';
import { ok, listPage } from '../envelope.ts';
import type { SyncRunRow, RecordRow } from '../../store/sync-types.ts';

const runView = (r: SyncRunRow) => ({
  id: r.id, integration_id: r.integration_id, stream: r.stream, full_refresh: r.full_refresh, status: r.status, started_at: r.started_at, finished_at: r.finished_at,
  pages: r.pages, records_read: r.records_read, records_created: r.records_created, records_updated: r.records_updated, records_deleted: r.records_deleted,
  records_invalid: r.records_invalid, invalid_keys: r.invalid_keys, cursor: r.cursor, error: r.error,
});

const recordView = (r: RecordRow) => ({
  integration_id: r.integration_id, provider: r.provider, stream: r.stream, model: r.model, key: r.key, data: r.data, created_at: r.created_at, updated_at: r.updated_at, deleted_at: r.deleted_at,
});

export const syncHandlers: Record<string, ApiHandler> = {
  async syncIntegration(c, h, _req, res) {
    const queued = await h.platform.sync.request(h, c.request.params['id'] as string, (c.request.requestBody ?? {}) as { stream?: string; full_refresh?: boolean });
    res.status(202).json(ok(queued, `Sync queued: ${queued.streams.join(', ')}.`));
  },
  async listSyncRuns(c, h, req, res) {
    const q = c.request.query as Record<string, string | undefined>;
    const page = h.page();
    const result = await h.platform.sync.runs(h.tenantId, c.request.params['id'] as string, { ...page, stream: q['stream'] });
    res.json(listPage(result.items.map(runView), result.total, page, req.originalUrl));
  },
  async listRecords(c, h, req, res) {
    const q = c.request.query as Record<string, string | undefined>;
    const page = h.page();
    const result = await h.platform.sync.records(h.tenantId, { ...page, stream: q['stream'], integration_id: q['integration_id'], updated_since: q['updated_since'] });
    res.json(listPage(result.items.map(recordView), result.total, page, req.originalUrl));
  },
};
