// An integration's status as colour AND text (colour is never the only signal).
import type { IntegrationStatus } from '../api/client';

const LABELS: Record<IntegrationStatus | 'not_configured', { text: string; tone: string }> = {
  active: { text: 'Active', tone: 'green' },
  pending_verify: { text: 'Pending verification', tone: 'yellow' },
  error: { text: 'Error', tone: 'red' },
  inactive: { text: 'Inactive', tone: 'grey' },
  not_configured: { text: 'Not configured', tone: 'grey' },
};

export function StatusBadge({ status }: { status: IntegrationStatus | 'not_configured' }) {
  const { text, tone } = LABELS[status];
  return (
    <span className={`status status-${tone}`} data-status={status}>
      <span className="status-dot" aria-hidden="true" />
      {text}
    </span>
  );
}
