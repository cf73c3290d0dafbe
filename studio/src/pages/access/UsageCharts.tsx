// The usage charts, drawn with uPlot (a small canvas chart library; this module and uPlot are a
// separate chunk, loaded when the API access page shows a time series): requests and errors per
// bucket, the error rate, and latency p50/p95/p99. Series differ by dash as well as colour, and each
// chart has a text summary beside it (the legend shows the values under the cursor).
import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { UsageReport } from '../../api/access';

type Bucket = NonNullable<UsageReport['series']>[number];

interface ChartSpec {
  title: string;
  unit: string;
  series: Array<{ label: string; stroke: string; dash?: number[]; value(b: Bucket): number | null }>;
}

const CHARTS: ChartSpec[] = [
  {
    title: 'Requests',
    unit: 'requests',
    series: [
      { label: 'Requests', stroke: '#1d4ed8', value: (b) => b.requests },
      { label: 'Errors (4xx and 5xx)', stroke: '#b42318', dash: [6, 4], value: (b) => b.errors },
    ],
  },
  {
    title: 'Error rate',
    unit: '%',
    series: [{ label: 'Error rate %', stroke: '#b42318', value: (b) => (b.requests ? Math.round(b.error_rate * 1000) / 10 : null) }],
  },
  {
    title: 'Latency',
    unit: 'ms',
    series: [
      { label: 'p50 ms', stroke: '#1a7f37', value: (b) => b.latency_ms.p50 },
      { label: 'p95 ms', stroke: '#7d4e00', dash: [6, 4], value: (b) => b.latency_ms.p95 },
      { label: 'p99 ms', stroke: '#8250df', dash: [2, 3], value: (b) => b.latency_ms.p99 },
    ],
  },
];

export default function UsageCharts({ series, byDay }: { series: Bucket[]; byDay: boolean }) {
  return (
    <div className="charts">
      {CHARTS.map((c) => (
        <Chart key={c.title} spec={c} series={series} byDay={byDay} />
      ))}
    </div>
  );
}

function summary(spec: ChartSpec, series: Bucket[]): string {
  return spec.series
    .map((s) => {
      const values = series.map(s.value).filter((v): v is number => v !== null);
      if (!values.length) return `${s.label}: no data`;
      return `${s.label}: highest ${Math.max(...values)}, latest ${values[values.length - 1]}`;
    })
    .join('; ');
}

function Chart({ spec, series, byDay }: { spec: ChartSpec; series: Bucket[]; byDay: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const data = useMemo<uPlot.AlignedData>(() => [series.map((b) => Date.parse(b.start) / 1000), ...spec.series.map((s) => series.map(s.value))], [series, spec]);
  const text = useMemo(() => summary(spec, series), [spec, series]);

  useEffect(() => {
    const el = box.current!;
    const width = () => Math.max(240, el.clientWidth);
    const plot = new uPlot(
      {
        width: width(),
        height: 200,
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max ?? 0)] } },
        axes: [{ values: byDay ? '{M}/{D}' : undefined }, { label: spec.unit, size: 60 }],
        series: [{ label: byDay ? 'Day' : 'Hour' }, ...spec.series.map((s) => ({ label: s.label, stroke: s.stroke, dash: s.dash, width: 2, spanGaps: false }))],
        cursor: { drag: { x: false, y: false } },
      },
      data,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: 200 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [data, spec, byDay]);

  return (
    <figure className="chart">
      <figcaption>{spec.title}</figcaption>
      <div ref={box} className="chart-canvas" role="img" aria-label={`${spec.title} over time. ${text}`} />
      <p className="hint">{text}</p>
    </figure>
  );
}
