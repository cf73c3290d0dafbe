// Sync of one integration: its streams (the provider's, from GET /providers, plus any named by a
// queued run or a past run), "Sync now" (POST /integrations/{id}/sync: 202, or the API's 409/422 message),
// the runs newest first (polled while one runs, and for a while after queuing), and the records.
import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap, type Integration } from '../../api/client';
import { Pager } from '../../components/ops/Pager';
import { QueryState, when } from '../../components/ops/QueryState';
import { StateBadge, type Tone } from '../../components/ops/StateBadge';
import { OutcomeLine, type Outcome } from '../../components/ops/Filters';
import { Records } from './Records';
import { useSyncRuns, type SyncRun } from './detail-queries';

const STATUS: Record<SyncRun['status'], { tone: Tone; text: string }> = {
  running: { tone: 'yellow', text: 'Running' },
  succeeded: { tone: 'green', text: 'Succeeded' },
  failed: { tone: 'red', text: 'Failed' },
  cancelled: { tone: 'grey', text: 'Cancelled' },
};

/** How long to keep looking for the run a "Sync now" queued before its job has started it. */
const WATCH_MS = 30_000;

export function SyncSection({ integration, providerStreams = [] }: { integration: Integration; providerStreams?: string[] }) {
  const id = useId();
  const qc = useQueryClient();
  const [page, setPage] = useState(1);
  const [watchUntil, setWatchUntil] = useState(0);
  /** The newest run listed when "Sync now" was pressed: the queued run is a newer one. */
  const [newestBefore, setNewestBefore] = useState<string | null>(null);
  const [stream, setStream] = useState('');
  const [fullRefresh, setFullRefresh] = useState(false);
  const [queuedStreams, setQueuedStreams] = useState<string[]>([]);
  const [notice, setNotice] = useState<Outcome | null>(null);
  const runs = useSyncRuns(integration.id, page, watchUntil);
  const list = runs.data?.items ?? [];
  const streams = useMemo(() => [...new Set([...providerStreams, ...queuedStreams, ...list.map((r) => r.stream)])].sort(), [providerStreams, queuedStreams, list]);

  const sync = useMutation({
    mutationFn: () => unwrap(api.POST('/integrations/{id}/sync', { params: { path: { id: integration.id } }, body: { ...(stream ? { stream } : {}), ...(fullRefresh ? { full_refresh: true } : {}) } })),
    onMutate: () => setNotice(null),
    onSuccess: (q) => {
      setQueuedStreams((s) => [...new Set([...s, ...q.streams])]);
      setNotice({ ok: true, text: `Sync queued: ${q.streams.join(', ')}${q.full_refresh ? ' (full refresh)' : ''}.` });
      setPage(1);
      setWatchUntil(Date.now() + WATCH_MS);
      setNewestBefore(list[0]?.id ?? null);
      void qc.invalidateQueries({ queryKey: ['sync-runs', integration.id] });
    },
    onError: (err) => setNotice({ ok: false, text: err.message }),
  });

  // A run that has finished may have written records: show them.
  const finished = list
    .filter((r) => r.status !== 'running')
    .map((r) => r.id)
    .join();
  const lastFinished = useRef(finished);
  useEffect(() => {
    if (finished !== lastFinished.current) {
      lastFinished.current = finished;
      void qc.invalidateQueries({ queryKey: ['records', integration.id] });
    }
  }, [finished, qc, integration.id]);
  // Stop watching early once the queued run has come and gone.
  useEffect(() => {
    if (watchUntil && list.length && list[0]!.id !== newestBefore && list.every((r) => r.status !== 'running')) setWatchUntil(0);
  }, [list, watchUntil, newestBefore]);

  const active = integration.status === 'active';
  return (
    <>
      <section className="panel" aria-labelledby={`${id}-h`}>
        <div className="panel-header">
          <h2 id={`${id}-h`}>Sync</h2>
        </div>
        <p className="hint">
          Streams read from the provider into records.{' '}
          {streams.length ? (
            <>
              Streams: <span data-testid="streams">{streams.join(', ')}</span>.
            </>
          ) : (
            'Sync now runs every stream the provider declares.'
          )}
        </p>
        {!active && <p className="hint">Only an active integration syncs; this one is {integration.status.replace(/_/g, ' ')}.</p>}
        <form
          className="filters"
          aria-label="Sync now"
          onSubmit={(e) => {
            e.preventDefault();
            sync.mutate();
          }}
        >
          {streams.length > 0 && (
            <div className="form-field">
              <label htmlFor={`${id}-stream`}>Stream</label>
              <select id={`${id}-stream`} value={stream} onChange={(e) => setStream(e.target.value)}>
                <option value="">All streams</option>
                {streams.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </div>
          )}
          <div className="form-check">
            <input id={`${id}-full`} type="checkbox" checked={fullRefresh} onChange={(e) => setFullRefresh(e.target.checked)} />
            <label htmlFor={`${id}-full`}>Full refresh</label>
          </div>
          <button type="submit" className="button primary" disabled={sync.isPending}>
            {sync.isPending ? 'Queuing…' : 'Sync now'}
          </button>
        </form>
        <OutcomeLine outcome={notice} />
        <h3 id={`${id}-runs`}>Sync runs</h3>
        <QueryState query={runs} what="the sync runs" empty={runs.isSuccess && list.length === 0 ? (watchUntil ? 'Waiting for the queued run to start…' : 'No sync run yet.') : undefined}>
          <table className="data-table" aria-labelledby={`${id}-runs`}>
            <thead>
              <tr>
                <th scope="col">Stream</th>
                <th scope="col">Status</th>
                <th scope="col">Started</th>
                <th scope="col">Finished</th>
                <th scope="col">Pages</th>
                <th scope="col">Read</th>
                <th scope="col">Created</th>
                <th scope="col">Updated</th>
                <th scope="col">Deleted</th>
                <th scope="col">Invalid</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {list.map((r) => (
                <tr key={r.id} data-run={r.id} data-run-status={r.status}>
                  <td data-label="Stream">
                    <code>{r.stream}</code>
                    {r.full_refresh ? ' (full refresh)' : ''}
                  </td>
                  <td data-label="Status">
                    <StateBadge tone={STATUS[r.status]?.tone ?? 'grey'} value={r.status} text={STATUS[r.status]?.text ?? r.status} />
                  </td>
                  <td data-label="Started">{when(r.started_at)}</td>
                  <td data-label="Finished">{r.finished_at ? when(r.finished_at) : '—'}</td>
                  <td data-label="Pages">{r.pages}</td>
                  <td data-label="Read">{r.records_read}</td>
                  <td data-label="Created">{r.records_created}</td>
                  <td data-label="Updated">{r.records_updated}</td>
                  <td data-label="Deleted">{r.records_deleted}</td>
                  <td data-label="Invalid" className="break">
                    {r.records_invalid}
                    {r.invalid_keys.length > 0 && (
                      <>
                        {' '}
                        (keys: <code>{r.invalid_keys.join(', ')}</code>
                        {r.records_invalid > r.invalid_keys.length ? ', …' : ''})
                      </>
                    )}
                  </td>
                  <td data-label="Error" className="break">
                    {r.error ?? '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {runs.data && <Pager page={runs.data.page} lastPage={runs.data.lastPage} total={runs.data.total} noun="run" onPage={setPage} />}
        </QueryState>
      </section>
      <Records integrationId={integration.id} streams={streams} />
    </>
  );
}
