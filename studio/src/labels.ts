// Words for identifiers the API returns (categories, capabilities).
const CATEGORY_LABELS: Record<string, string> = { crm: 'CRM', echeck: 'eCheck' };

/** send_sms -> "send sms". */
export const words = (s: string): string => s.replace(/_/g, ' ');

export const categoryLabel = (c: string): string => CATEGORY_LABELS[c] ?? words(c).replace(/^./, (ch) => ch.toUpperCase());
