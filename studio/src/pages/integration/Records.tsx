// The records synced from one integration (GET /records?integration_id=&stream=), most recently
// updated first: key, model, updated and deleted times, and the mapped data as key/value pairs.
import { useId, useState } from 'react';
import { Pager } from '../../components/ops/Pager';
import { QueryState, when } from '../../components/ops/QueryState';
import { StateBadge } from '../../components/ops/StateBadge';
import { useRecords, type SyncRecord } from './detail-queries';
import { Value } from './Value';

export function Records({ integrationId, streams }: { integrationId: string; streams: string[] }) {
  const id = useId();
  const [stream, setStream] = useState('');
  const [page, setPage] = useState(1);
  const records = useRecords(integrationId, stream || undefined, page);
  const list = records.data?.items ?? [];
  return (
    <section className="panel" aria-labelledby={`${id}-h`}>
      <div className="panel-header">
        <h2 id={`${id}-h`}>Records</h2>
        <button type="button" className="button small" onClick={() => void records.refetch()} disabled={records.isFetching}>
          {records.isFetching ? 'Refreshing…' : 'Refresh records'}
        </button>
      </div>
      <p className="hint">What the sync runs wrote, mapped to their model, most recently updated first.</p>
      {streams.length > 0 && (
        <form className="filters" aria-label="Filter records" onSubmit={(e) => e.preventDefault()}>
          <div className="form-field">
            <label htmlFor={`${id}-stream`}>Stream</label>
            <select
              id={`${id}-stream`}
              value={stream}
              onChange={(e) => {
                setStream(e.target.value);
                setPage(1);
              }}
            >
              <option value="">All streams</option>
              {streams.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </div>
        </form>
      )}
      <QueryState query={records} what="the records" empty={records.isSuccess && list.length === 0 ? (stream ? `No record in ${stream} yet.` : 'No records yet. Run a sync to read them from the provider.') : undefined}>
        <ul className="records" aria-label="Synced records">
          {list.map((r) => (
            <RecordItem key={`${r.stream}/${r.key}`} record={r} />
          ))}
        </ul>
        {records.data && <Pager page={records.data.page} lastPage={records.data.lastPage} total={records.data.total} noun="record" onPage={setPage} />}
      </QueryState>
    </section>
  );
}

function RecordItem({ record: r }: { record: SyncRecord }) {
  const fields = Object.entries(r.data);
  return (
    <li className="record" data-record={r.key}>
      <p className="record-title">
        <strong>
          <code>{r.key}</code>
        </strong>{' '}
        <span className="muted">
          {r.model} · {r.stream}
        </span>{' '}
        {r.deleted_at && <StateBadge tone="grey" value="deleted" text="Deleted" />}
      </p>
      <p className="hint">
        Updated {when(r.updated_at)}
        {r.deleted_at ? ` · deleted ${when(r.deleted_at)}` : ''}
      </p>
      {fields.length ? (
        <dl className="record-data">
          {fields.map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>
                <Value value={v} />
              </dd>
            </div>
          ))}
        </dl>
      ) : (
        <p className="hint">No data.</p>
      )}
    </li>
  );
}
