// "Page 2 of 5" with Newer / Older buttons for a list the API pages (newest first).
export function Pager({ page, lastPage, total, noun, onPage }: { page: number; lastPage: number; total: number; noun: string; onPage(p: number): void }) {
  if (lastPage <= 1) return <p className="hint">{`${total} ${noun}${total === 1 ? '' : 's'}`}</p>;
  return (
    <nav className="pager" aria-label={`Pages of ${noun}s`}>
      <button type="button" className="button small" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        Newer
      </button>
      <span>
        Page {page} of {lastPage} ({total} {noun}s)
      </span>
      <button type="button" className="button small" disabled={page >= lastPage} onClick={() => onPage(page + 1)}>
        Older
      </button>
    </nav>
  );
}
