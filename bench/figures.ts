// The figures `npm run bench -- --json` prints (issue 13): one object with stable keys, each
// `{ value, unit, baseline, ratio, goal }`, recorded by the sections as they measure. The goals are
// issue 13's; the human summary prints each figure beside its goal and whether it was met.

export interface Figure {
  value: number;
  unit: string;
  /** The same-run baseline in the same unit (null where a figure has none). */
  baseline: number | null;
  /** value / baseline (for `engine`: time per call / undici's time). */
  ratio: number | null;
  goal: string;
  /** What the baseline is, in a few words (JSON and summary). */
  baseline_is?: string;
  [extra: string]: unknown;
}

type Check = (f: Figure) => boolean;

const atLeast = (x: number): [string, Check] => [`>= ${x}x`, (f) => f.ratio !== null && f.ratio >= x];

/** Goal text and test per key; PostgreSQL keys share their SQLite key's goal (DESIGN §10: goals bind on SQLite, PostgreSQL is reported beside). */
const GOALS: Record<string, [string, Check]> = {
  'api.list': atLeast(0.5),
  'api.operation': atLeast(0.6),
  'webhooks.out': atLeast(0.3),
  'webhooks.in': atLeast(0.5),
  mapping: atLeast(0.5),
  engine: ['<= 1.3x', (f) => f.ratio !== null && f.ratio <= 1.3],
  sync: atLeast(0.7),
  startup_ms: ['< 1500 ms', (f) => f.value < 1500],
  rss_mb: ['< 200 MB and flat', (f) => f.value < 200 && f.flat === true],
};

/** The keys in the order they are printed (stable from run to run). */
export const KEYS = ['api.list', 'api.operation', 'webhooks.out', 'webhooks.in', 'mapping', 'engine', 'sync', 'startup_ms', 'rss_mb', 'api.list.postgres', 'api.operation.postgres', 'webhooks.out.postgres', 'webhooks.in.postgres'];

const figures = new Map<string, Figure>();

const goalOf = (key: string) => GOALS[key.replace(/\.postgres$/, '')]!;

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Records a figure; the ratio is value / baseline unless given. */
export function record(key: string, f: { value: number; unit: string; baseline?: number | null; ratio?: number; baseline_is?: string; [extra: string]: unknown }): void {
  if (!KEYS.includes(key)) throw new Error(`unknown benchmark key ${key}`);
  const baseline = f.baseline ?? null;
  const ratio = f.ratio ?? (baseline ? f.value / baseline : null);
  const digits = f.value >= 100 ? 0 : 1;
  const { value: _v, unit, baseline: _b, ratio: _r, ...extra } = f;
  figures.set(key, {
    value: round(f.value, digits),
    unit,
    baseline: baseline === null ? null : round(baseline, baseline >= 100 ? 0 : 1),
    ratio: ratio === null ? null : round(ratio, 3),
    goal: goalOf(key)[0],
    ...extra,
  });
  const r = figures.get(key)!;
  const shown = r.goal.endsWith('x') ? `${r.ratio?.toFixed(2)}x` : `${r.value.toLocaleString('en-US')} ${r.unit}`;
  console.log(`  ${`→ ${key}`.padEnd(48)} ${shown}, goal ${r.goal}: ${met(key, r) ? 'met' : 'MISSED'}`);
}

export const met = (key: string, f: Figure): boolean => goalOf(key)[1](f);

/** The JSON object of `--json`: recorded keys in KEYS order. */
export function figuresJson(): Record<string, Figure> {
  const out: Record<string, Figure> = {};
  for (const k of KEYS) if (figures.has(k)) out[k] = figures.get(k)!;
  return out;
}

/** The summary table at the end of a human run. */
export function printSummary(log: (line: string) => void): void {
  if (!figures.size) return;
  log('\nSummary (issue 13 goals; ratios are to the same-run baseline; PostgreSQL is reported beside SQLite, goals bind on SQLite)');
  log(`  ${'figure'.padEnd(24)} ${'value'.padStart(16)} ${'baseline'.padStart(16)} ${'ratio'.padStart(8)}  ${'goal'.padEnd(18)} result`);
  for (const [key, f] of Object.entries(figuresJson())) {
    const v = (x: number | null) => (x === null ? '—' : `${x.toLocaleString('en-US')} ${f.unit}`);
    const extra = key === 'rss_mb' ? `  (first 10 s ${f.first_10s_mb} MB, last 10 s ${f.last_10s_mb} MB, ${f.flat ? 'flat' : 'growing'})` : '';
    log(`  ${key.padEnd(24)} ${v(f.value).padStart(16)} ${v(f.baseline).padStart(16)} ${(f.ratio === null ? '—' : `${f.ratio.toFixed(2)}x`).padStart(8)}  ${f.goal.padEnd(18)} ${met(key, f) ? 'met' : 'MISSED'}${extra}`);
  }
}
