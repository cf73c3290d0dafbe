// The outbound delivery log, newest first: filters (status, subscription, event type), the
// attempts of one delivery (status code, duration, error, response excerpt), replay.
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { ModalDialog } from '../Dialog';
import { Pager } from './Pager';
import { QueryState, when } from './QueryState';
import { StateBadge, type Tone } from './StateBadge';
import { FilterBar, FilterSelect, OutcomeLine, statusOptions, type Outcome } from './Filters';
import { useDeliveries, useDelivery, useEventTypes, useSubscriptions, type Delivery, type DeliveryFilter } from './webhook-queries';

const STATUS: Record<Delivery['status'], { tone: Tone; text: string }> = {
  delivered: { tone: 'green', text: 'Delivered' },
  pending: { tone: 'yellow', text: 'Pending' },
  failed: { tone: 'red', text: 'Failed' },
  cancelled: { tone: 'grey', text: 'Cancelled' },
};

function DeliveryStatus({ d }: { d: Pick<Delivery, 'status' | 'attempts'> }) {
  const s = STATUS[d.status];
  return <StateBadge tone={s.tone} value={d.status} text={d.status === 'pending' && d.attempts > 0 ? 'Pending retry' : s.text} />;
}

export function Deliveries({ filter, onFilter }: { filter: DeliveryFilter; onFilter(f: DeliveryFilter): void }) {
  const qc = useQueryClient();
  const subs = useSubscriptions();
  const types = useEventTypes();
  const deliveries = useDeliveries(filter);
  const [detail, setDetail] = useState<string | null>(null);
  const [notice, setNotice] = useState<Outcome | null>(null);
  const urls = new Map((subs.data?.items ?? []).map((s) => [s.id, s.url]));
  const list = deliveries.data?.items ?? [];
  const set = (patch: Partial<DeliveryFilter>) => {
    const next = { ...filter, ...patch, page: 1 };
    for (const k of Object.keys(next) as Array<keyof DeliveryFilter>) if (next[k] === '' || next[k] === undefined) delete next[k];
    onFilter(next);
  };
  const replay = useMutation({
    mutationFn: (d: Delivery) => unwrap(api.POST('/webhooks/deliveries/{id}/replay', { params: { path: { id: d.id } } })),
    onSuccess: (d) => setNotice({ ok: true, text: `${d.event_type} queued again with the same webhook-id (${d.webhook_id}).` }),
    onError: (err) => setNotice({ ok: false, text: err.message }),
    onSettled: () => qc.invalidateQueries({ queryKey: ['webhook-deliveries'] }),
  });

  return (
    <>
      <FilterBar label="Filter deliveries" list={deliveries}>
        <FilterSelect label="Status" value={filter.status} options={statusOptions(STATUS)} onChange={(v) => set({ status: v as DeliveryFilter['status'] })} />
        <FilterSelect label="Subscription" value={filter.subscription_id} options={(subs.data?.items ?? []).map((s) => ({ value: s.id, label: s.url }))} onChange={(v) => set({ subscription_id: v })}>
          {filter.subscription_id && !urls.has(filter.subscription_id) && <option value={filter.subscription_id}>{filter.subscription_id} (deleted)</option>}
        </FilterSelect>
        <FilterSelect label="Event type" value={filter.event_type} options={(types.data ?? []).map((t) => ({ value: t.type, label: t.type }))} onChange={(v) => set({ event_type: v })} />
      </FilterBar>
      <OutcomeLine outcome={notice} />
      <QueryState query={deliveries} what="the deliveries" empty={deliveries.isSuccess && list.length === 0 ? (Object.keys(filter).some((k) => k !== 'page') ? 'No delivery matches these filters.' : 'No deliveries yet. Send a test event from a subscription.') : undefined}>
        <table className="data-table">
          <caption className="visually-hidden">Webhook deliveries, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Created</th>
              <th scope="col">Event type</th>
              <th scope="col">Subscription</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last answer</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((d) => (
              <tr key={d.id} data-delivery={d.id}>
                <td data-label="Created">{when(d.created_at)}</td>
                <td data-label="Event type">
                  <code>{d.event_type}</code>
                </td>
                <td data-label="Subscription" className="break">
                  {urls.get(d.subscription_id) ?? d.subscription_id}
                </td>
                <td data-label="Status">
                  <DeliveryStatus d={d} />
                </td>
                <td data-label="Attempts">{d.attempts}</td>
                <td data-label="Last answer" className="break">
                  {d.last_status_code !== null && d.last_status_code !== undefined ? `HTTP ${d.last_status_code}` : '—'}
                  {d.last_error ? ` ${d.last_error}` : ''}
                  {d.status === 'pending' && d.next_attempt_at ? ` · next ${when(d.next_attempt_at)}` : ''}
                </td>
                <td className="row-actions">
                  <button type="button" className="button small" aria-label={`Attempts of ${d.event_type} delivery ${d.id}`} onClick={() => setDetail(d.id)}>
                    Attempts
                  </button>
                  <button type="button" className="button small" aria-label={`Replay ${d.event_type} delivery ${d.id}`} disabled={replay.isPending || d.status === 'pending'} onClick={() => replay.mutate(d)}>
                    Replay
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {deliveries.data && <Pager page={deliveries.data.page} lastPage={deliveries.data.lastPage} total={deliveries.data.total} noun="delivery" onPage={(page) => onFilter({ ...filter, page })} />}
      </QueryState>
      <ModalDialog title="Delivery attempts" isOpen={detail !== null} onClose={() => setDetail(null)}>
        <DeliveryDetail id={detail} url={detail ? urls.get(list.find((d) => d.id === detail)?.subscription_id ?? '') : undefined} onClose={() => setDetail(null)} />
      </ModalDialog>
    </>
  );
}

function DeliveryDetail({ id, url, onClose }: { id: string | null; url?: string; onClose(): void }) {
  const q = useDelivery(id);
  const d = q.data;
  const attempts = d?.attempt_log ?? [];
  return (
    <>
      <QueryState query={q} what="the delivery">
        {d && (
          <>
            <dl className="facts">
              <div>
                <dt>Event</dt>
                <dd>
                  <code>{d.event_type}</code>
                </dd>
              </div>
              <div>
                <dt>Status</dt>
                <dd>
                  <DeliveryStatus d={d} />
                </dd>
              </div>
              {url && (
                <div>
                  <dt>Sent to</dt>
                  <dd>{url}</dd>
                </div>
              )}
              <div>
                <dt>webhook-id</dt>
                <dd>
                  <code>{d.webhook_id}</code>
                </dd>
              </div>
              {d.delivered_at && (
                <div>
                  <dt>Delivered</dt>
                  <dd>{when(d.delivered_at)}</dd>
                </div>
              )}
              {d.status === 'pending' && d.next_attempt_at && (
                <div>
                  <dt>Next attempt</dt>
                  <dd>{when(d.next_attempt_at)}</dd>
                </div>
              )}
            </dl>
            {attempts.length === 0 ? (
              <p className="empty-state">No attempt yet.</p>
            ) : (
              <ol className="attempts">
                {attempts.map((a) => (
                  <li key={a.id} className="attempt">
                    <p>
                      <strong>Attempt {a.attempt}</strong> · {when(a.created_at)} · {a.status_code !== null ? `HTTP ${a.status_code}` : 'no answer'} · {Math.round(a.duration_ms)} ms{' '}
                      {a.status_code !== null && a.status_code >= 200 && a.status_code < 300 ? <StateBadge tone="green" value="ok" text="Accepted" /> : <StateBadge tone="red" value="error" text="Refused" />}
                    </p>
                    {a.error && <p className="field-error">{a.error}</p>}
                    {a.response_excerpt && (
                      <>
                        <p className="hint">Response (excerpt):</p>
                        <pre className="excerpt">{a.response_excerpt}</pre>
                      </>
                    )}
                  </li>
                ))}
              </ol>
            )}
          </>
        )}
      </QueryState>
      <div className="dialog-actions">
        <button type="button" className="button primary" onClick={onClose}>
          Close
        </button>
      </div>
    </>
  );
}
