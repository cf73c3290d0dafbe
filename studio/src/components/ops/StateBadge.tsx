// A state as colour AND text (colour is never the only signal), in the integration badge's style.
export type Tone = 'green' | 'yellow' | 'red' | 'grey';

export function StateBadge({ tone, text, value }: { tone: Tone; text: string; value: string }) {
  return (
    <span className={`status status-${tone}`} data-status={value}>
      <span className="status-dot" aria-hidden="true" />
      {text}
    </span>
  );
}
