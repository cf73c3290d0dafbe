// The provider deliveries of one integration (GET /deliveries?integration_id=): every attempt an
// operation made against the provider, newest first, with status, provider answer, duration, error.
import { useId, useState } from 'react';
import { Pager } from '../../components/ops/Pager';
import { QueryState, when } from '../../components/ops/QueryState';
import { StateBadge, type Tone } from '../../components/ops/StateBadge';
import { capabilityLabel } from '../../labels';
import { useProviderDeliveries, type ProviderDelivery } from './detail-queries';

const STATUS: Record<ProviderDelivery['status'], { tone: Tone; text: string }> = {
  succeeded: { tone: 'green', text: 'Succeeded' },
  in_progress: { tone: 'yellow', text: 'In progress' },
  failed: { tone: 'red', text: 'Failed' },
  unknown: { tone: 'grey', text: 'Unknown outcome' },
};

export function ProviderDeliveries({ integrationId }: { integrationId: string }) {
  const headingId = useId();
  const [page, setPage] = useState(1);
  const deliveries = useProviderDeliveries(integrationId, page);
  const list = deliveries.data?.items ?? [];
  return (
    <section className="panel" aria-labelledby={headingId}>
      <div className="panel-header">
        <h2 id={headingId}>Recent deliveries</h2>
        <button type="button" className="button small" onClick={() => void deliveries.refetch()} disabled={deliveries.isFetching}>
          {deliveries.isFetching ? 'Refreshing…' : 'Refresh deliveries'}
        </button>
      </div>
      <p className="hint">Each call an operation made to the provider, newest first.</p>
      <QueryState query={deliveries} what="the deliveries" empty={deliveries.isSuccess && list.length === 0 ? 'No operation has called this provider through this integration yet.' : undefined}>
        <table className="data-table">
          <caption className="visually-hidden">Provider deliveries, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Capability</th>
              <th scope="col">Status</th>
              <th scope="col">Provider answer</th>
              <th scope="col">Duration</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {list.map((d) => (
              <tr key={d.id} data-delivery={d.id}>
                <td data-label="Time">{when(d.created_at)}</td>
                <td data-label="Capability">
                  {capabilityLabel(d.capability)}
                  {d.attempt > 1 ? ` (attempt ${d.attempt})` : ''}
                </td>
                <td data-label="Status">
                  <StateBadge tone={STATUS[d.status]?.tone ?? 'grey'} value={d.status} text={STATUS[d.status]?.text ?? d.status} />
                </td>
                <td data-label="Provider answer">{d.provider_status_code !== null ? `HTTP ${d.provider_status_code}` : '—'}</td>
                <td data-label="Duration">{d.duration_ms} ms</td>
                <td data-label="Error" className="break">
                  {d.error ? (
                    <>
                      {d.error.type && <code>{d.error.type}</code>} {d.error.message}
                      {d.error.provider_code ? ` (provider code ${d.error.provider_code})` : ''}
                    </>
                  ) : (
                    '—'
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {deliveries.data && <Pager page={deliveries.data.page} lastPage={deliveries.data.lastPage} total={deliveries.data.total} noun="provider call" onPage={setPage} />}
      </QueryState>
    </section>
  );
}
