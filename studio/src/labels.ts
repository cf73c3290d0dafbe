// Words for identifiers the API returns (categories, capabilities).
const CATEGORY_LABELS: Record<string, string> = { crm: 'CRM', echeck: 'eCheck' };

/** send_sms -> "send sms". */
export const words = (s: string): string => s.replace(/_/g, ' ');

export const categoryLabel = (c: string): string => CATEGORY_LABELS[c] ?? words(c).replace(/^./, (ch) => ch.toUpperCase());

/** Words written their own way inside a capability's label. */
const CAPABILITY_WORDS: Record<string, string> = { sms: 'SMS', mms: 'MMS', whatsapp: 'WhatsApp', otp: 'OTP', api: 'API', url: 'URL', id: 'ID', crm: 'CRM', ach: 'ACH', kyc: 'KYC' };

/** send_sms -> "Send SMS", send_whatsapp -> "Send WhatsApp", create_contact -> "Create contact". */
export const capabilityLabel = (c: string): string =>
  c
    .split('_')
    .filter(Boolean)
    .map((w, i) => CAPABILITY_WORDS[w.toLowerCase()] ?? (i === 0 ? w.charAt(0).toUpperCase() + w.slice(1) : w))
    .join(' ');
