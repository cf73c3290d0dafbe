// What the log pages' filter bars share (deliveries, inbound events): a form of "Any"-or-one
// selects with a Refresh button, and the line saying how an action on a row went.
import { useId, type ReactNode } from 'react';

export interface Option {
  value: string;
  label: string;
}

/** A labelled select whose empty choice ("Any") means no filter. */
export function FilterSelect({ label, value, options, onChange, children }: { label: string; value: string | undefined; options: Option[]; onChange(value: string | undefined): void; children?: ReactNode }) {
  const id = useId();
  return (
    <div className="form-field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value ?? ''} onChange={(e) => onChange(e.target.value || undefined)}>
        <option value="">Any</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
        {children}
      </select>
    </div>
  );
}

/** The options of a status select: each status with its text. */
export const statusOptions = (statuses: Record<string, { text: string }>): Option[] => Object.entries(statuses).map(([value, s]) => ({ value, label: s.text }));

/** The filter form: its selects, then a Refresh button for the list. */
export function FilterBar({ label, list, children }: { label: string; list: { refetch(): unknown; isFetching: boolean }; children: ReactNode }) {
  return (
    <form className="filters" aria-label={label} onSubmit={(e) => e.preventDefault()}>
      {children}
      <button type="button" className="button" onClick={() => void list.refetch()} disabled={list.isFetching}>
        {list.isFetching ? 'Refreshing…' : 'Refresh'}
      </button>
    </form>
  );
}

export interface Outcome {
  ok: boolean;
  text: string;
}

/** How an action went: a status line, or an alert when it failed. */
export function OutcomeLine({ outcome }: { outcome: Outcome | null }) {
  if (!outcome) return null;
  return (
    <p className={outcome.ok ? 'notice' : 'form-problem'} role={outcome.ok ? 'status' : 'alert'}>
      {outcome.text}
    </p>
  );
}
