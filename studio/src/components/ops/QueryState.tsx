// Loading, error (with "Try again") and empty states for one query, so every list has all three.
import type { ReactNode } from 'react';

interface QueryLike {
  isPending: boolean;
  isError: boolean;
  error: Error | null;
  refetch(): unknown;
}

export function QueryState({ query, what, empty, children }: { query: QueryLike; what: string; empty?: ReactNode; children?: ReactNode }) {
  if (query.isPending)
    return (
      <p role="status" className="loading">
        Loading {what}…
      </p>
    );
  if (query.isError)
    return (
      <div role="alert" className="error-state">
        <p>
          Could not load {what}: {query.error?.message}
        </p>
        <button type="button" className="button" onClick={() => void query.refetch()}>
          Try again
        </button>
      </div>
    );
  if (empty) return <p className="empty-state">{empty}</p>;
  return <>{children}</>;
}

export const when = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString() : '—');
