// Events received from providers, newest first, by status; failed and ignored ones can be
// reprocessed (after a manifest fix).
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { useProviders } from '../../api/queries';
import { Pager } from './Pager';
import { QueryState, when } from './QueryState';
import { StateBadge, type Tone } from './StateBadge';
import { FilterBar, FilterSelect, OutcomeLine, statusOptions, type Outcome } from './Filters';
import { useInboundEvents, type InboundEvent, type InboundStatus } from './webhook-queries';

const STATUS: Record<InboundStatus, { tone: Tone; text: string }> = {
  received: { tone: 'yellow', text: 'Received' },
  processed: { tone: 'green', text: 'Processed' },
  ignored: { tone: 'grey', text: 'Ignored' },
  rejected: { tone: 'red', text: 'Rejected' },
  failed: { tone: 'red', text: 'Failed' },
};

export function InboundEvents() {
  const qc = useQueryClient();
  const providers = useProviders();
  const [status, setStatus] = useState<InboundStatus | undefined>();
  const [page, setPage] = useState(1);
  const events = useInboundEvents(status, page);
  const [notice, setNotice] = useState<Outcome | null>(null);
  const names = new Map((providers.data ?? []).map((p) => [p.name, p.display_name]));
  const list = events.data?.items ?? [];
  const reprocess = useMutation({
    mutationFn: (e: InboundEvent) => unwrap(api.POST('/webhooks/inbound-events/{id}/reprocess', { params: { path: { id: e.id } } })),
    onSuccess: (_r, e) => setNotice({ ok: true, text: `${e.provider_event_type ?? 'The event'} from ${names.get(e.provider) ?? e.provider} is queued for processing.` }),
    onError: (err) => setNotice({ ok: false, text: err.message }),
    onSettled: () => qc.invalidateQueries({ queryKey: ['inbound-events'] }),
  });

  return (
    <>
      <p className="hint">Providers send events to <code>/api/v1/webhooks/inbound/&#123;provider&#125;/&#123;integration_id&#125;</code>; each is verified, stored, then mapped to a normalized event.</p>
      <FilterBar label="Filter inbound events" list={events}>
        <FilterSelect
          label="Status"
          value={status}
          options={statusOptions(STATUS)}
          onChange={(v) => {
            setStatus(v as InboundStatus | undefined);
            setPage(1);
          }}
        />
      </FilterBar>
      <OutcomeLine outcome={notice} />
      <QueryState query={events} what="the inbound events" empty={events.isSuccess && list.length === 0 ? (status ? 'No inbound event has this status.' : 'No events received from providers yet.') : undefined}>
        <table className="data-table">
          <caption className="visually-hidden">Inbound events, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Received</th>
              <th scope="col">Provider</th>
              <th scope="col">Event type</th>
              <th scope="col">Status</th>
              <th scope="col">Reason</th>
              <th scope="col">Attempts</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((e) => (
              <tr key={e.id} data-inbound={e.id}>
                <td data-label="Received">{when(e.received_at)}</td>
                <td data-label="Provider">{names.get(e.provider) ?? e.provider}</td>
                <td data-label="Event type">{e.provider_event_type ? <code>{e.provider_event_type}</code> : '—'}</td>
                <td data-label="Status">
                  <StateBadge tone={STATUS[e.status]?.tone ?? 'grey'} value={e.status} text={STATUS[e.status]?.text ?? e.status} />
                </td>
                <td data-label="Reason" className="break">
                  {e.reason ?? '—'}
                </td>
                <td data-label="Attempts">{e.attempts}</td>
                <td className="row-actions">
                  {(e.status === 'failed' || e.status === 'ignored') && (
                    <button type="button" className="button small" aria-label={`Reprocess ${e.provider_event_type ?? 'event'} ${e.id}`} disabled={reprocess.isPending} onClick={() => reprocess.mutate(e)}>
                      Reprocess
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {events.data && <Pager page={events.data.page} lastPage={events.data.lastPage} total={events.data.total} noun="event" onPage={setPage} />}
      </QueryState>
    </>
  );
}
