// A JSON value as readable text: scalars as they are, objects and arrays as indented JSON.
export function Value({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span className="muted">—</span>;
  if (typeof value === 'object') return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
  return <>{String(value)}</>;
}
