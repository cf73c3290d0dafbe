// Usage: the tenant's requests over a chosen range, as totals (text), charts over time (requests,
// error rate, latency percentiles; uPlot, loaded on demand) and the busiest routes.
import { lazy, Suspense, useId, useMemo, useState } from 'react';
import { useUsage, type UsageReport } from '../../api/access';
import { QueryState } from '../../components/ops/QueryState';

const UsageCharts = lazy(() => import('./UsageCharts'));

const RANGES = {
  '24h': { label: 'Last 24 hours', hours: 24, groupBy: 'hour' },
  '7d': { label: 'Last 7 days', hours: 24 * 7, groupBy: 'hour' },
  '30d': { label: 'Last 30 days', hours: 24 * 30, groupBy: 'day' },
} as const;
type Range = keyof typeof RANGES;

const pct = (rate: number) => `${(rate * 100).toFixed(1)} %`;
const ms = (v: number | null | undefined) => (v == null ? '—' : `${Math.round(v)} ms`);

export function UsageSection() {
  const headingId = useId();
  const selectId = useId();
  const [range, setRange] = useState<Range>('24h');
  const [asOf, setAsOf] = useState(() => Date.now());
  const { from, to } = useMemo(() => ({ from: new Date(asOf - RANGES[range].hours * 3600_000).toISOString(), to: new Date(asOf).toISOString() }), [range, asOf]);
  const groupBy = RANGES[range].groupBy;
  const overTime = useUsage(groupBy, from, to);
  const byRoute = useUsage('route', from, to);

  return (
    <section className="panel" aria-labelledby={headingId}>
      <h2 id={headingId}>Usage</h2>
      <div className="toolbar">
        <label htmlFor={selectId}>Range</label>
        <select id={selectId} value={range} onChange={(e) => setRange(e.target.value as Range)}>
          {Object.entries(RANGES).map(([k, r]) => (
            <option key={k} value={k}>
              {r.label}
            </option>
          ))}
        </select>
        <button type="button" className="button small" onClick={() => setAsOf(Date.now())}>
          Refresh
        </button>
      </div>
      <QueryState query={overTime} what="the usage">
        {overTime.data && <Totals report={overTime.data} />}
        {overTime.data?.series && (
          <Suspense fallback={<p role="status">Loading the charts…</p>}>
            <UsageCharts series={overTime.data.series} byDay={groupBy === 'day'} />
          </Suspense>
        )}
      </QueryState>
      <h3>Top routes</h3>
      <QueryState query={byRoute} what="the routes" empty={byRoute.data?.groups?.length === 0 ? 'No requests in this range.' : undefined}>
        <div className="table-wrap" role="region" aria-label="Top routes" tabIndex={0}>
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Route</th>
                <th scope="col" className="num">
                  Requests
                </th>
                <th scope="col" className="num">
                  Error rate
                </th>
                <th scope="col" className="num">
                  p95
                </th>
              </tr>
            </thead>
            <tbody>
              {byRoute.data?.groups?.slice(0, 10).map((g) => (
                <tr key={g.route}>
                  <td>
                    <code>{g.route}</code>
                  </td>
                  <td className="num">{g.requests}</td>
                  <td className="num">{pct(g.error_rate)}</td>
                  <td className="num">{ms(g.latency_ms.p95)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </QueryState>
    </section>
  );
}

function Totals({ report }: { report: UsageReport }) {
  const t = report.totals;
  return (
    <dl className="totals">
      <div>
        <dt>Requests</dt>
        <dd>{t.requests}</dd>
      </div>
      <div>
        <dt>Errors</dt>
        <dd>
          {t.errors} ({pct(t.error_rate)})
        </dd>
      </div>
      <div>
        <dt>Latency p50 / p95 / p99</dt>
        <dd>
          {ms(t.latency_ms.p50)} / {ms(t.latency_ms.p95)} / {ms(t.latency_ms.p99)}
        </dd>
      </div>
    </dl>
  );
}
