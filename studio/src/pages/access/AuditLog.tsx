// The audit log: who changed what (integrations, keys, clients, rules, subscriptions), newest first,
// a page at a time.
import { useId, useState } from 'react';
import { useAuditLog } from '../../api/access';
import { QueryState, when } from '../../components/ops/QueryState';
import { words } from '../../labels';

export function AuditLogSection() {
  const [page, setPage] = useState(1);
  const log = useAuditLog(page);
  const headingId = useId();
  const data = log.data;

  return (
    <section className="panel" aria-labelledby={headingId}>
      <h2 id={headingId}>Audit log</h2>
      <p className="hint">Changes made with this tenant's keys and clients, newest first. Values are never recorded, only the names of the fields changed.</p>
      <QueryState query={log} what="the audit log" empty={data?.items.length === 0 && page === 1 ? 'Nothing has been changed yet.' : undefined}>
        <div className="table-wrap" role="region" aria-label="Audit log entries" tabIndex={0}>
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Fields changed</th>
              </tr>
            </thead>
            <tbody>
              {data?.items.map((e) => (
                <tr key={e.id}>
                  <td>{when(e.created_at)}</td>
                  <td>
                    <code>{e.actor}</code>
                  </td>
                  <td>{words(e.action)}</td>
                  <td>
                    {words(e.target_type)} {e.target_id && <code>{e.target_id}</code>}
                  </td>
                  <td>{e.changed_fields.length ? e.changed_fields.join(', ') : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {data && (
          <nav className="pager" aria-label="Audit log pages">
            <button type="button" className="button small" disabled={page <= 1 || log.isFetching} onClick={() => setPage((p) => p - 1)}>
              Newer
            </button>
            <span aria-live="polite">
              Page {data.page} of {data.lastPage} ({data.total} entries)
            </span>
            <button type="button" className="button small" disabled={page >= data.lastPage || log.isFetching} onClick={() => setPage((p) => p + 1)}>
              Older
            </button>
          </nav>
        )}
      </QueryState>
    </section>
  );
}
