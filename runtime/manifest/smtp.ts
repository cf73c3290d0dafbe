// SMTP connectors (auth type smtp) send each capability as one email over the integration's SMTP
// server: a capability gives `smtp: { message: <JSONata> }` instead of `request`, and `verify:
// { smtp: true }` connects and logs in. These are the rules the JSON Schema cannot state.
import type { Manifest } from './types.ts';
import type { PathSegment } from './source-map.ts';
import { didYouMean } from './suggest.ts';

export const SMTP_SECURITY = ['starttls', 'tls', 'none'] as const;
export type SmtpSecurity = (typeof SMTP_SECURITY)[number];

interface SmtpIssue {
  segs: PathSegment[];
  message: string;
  rule: string;
}

const isTemplate = (v: string) => v.includes('{{');

function authIssues(m: Manifest): SmtpIssue[] {
  const a = m.auth;
  const out: SmtpIssue[] = [];
  if (a.secure !== undefined && a.security !== undefined) out.push({ segs: ['auth', 'secure'], message: 'give either "security" (starttls, tls, none) or the legacy "secure", not both', rule: 'smtp_security' });
  if (typeof a.security === 'string' && !isTemplate(a.security) && !(SMTP_SECURITY as readonly string[]).includes(a.security)) {
    out.push({ segs: ['auth', 'security'], message: `must be one of: ${SMTP_SECURITY.join(', ')} (or a template rendering one), got "${a.security}"${didYouMean(a.security, SMTP_SECURITY)}`, rule: 'smtp_security' });
  }
  if (typeof a.reject_unauthorized === 'string' && !isTemplate(a.reject_unauthorized)) {
    out.push({ segs: ['auth', 'reject_unauthorized'], message: `must be true, false or a template rendering one, got "${a.reject_unauthorized}"`, rule: 'smtp_reject_unauthorized' });
  }
  return out;
}

export function smtpIssues(m: Manifest): SmtpIssue[] {
  const isSmtp = m.auth?.type === 'smtp';
  const out: SmtpIssue[] = isSmtp ? authIssues(m) : [];
  const sent = (segs: PathSegment[], spec: { request?: unknown; smtp?: unknown }, what: string) => {
    if (spec.request !== undefined && spec.smtp !== undefined) out.push({ segs: [...segs, 'smtp'], message: `${what} is sent either over HTTP (request) or over SMTP (smtp), not both`, rule: 'smtp_transport' });
    else if (spec.smtp !== undefined && !isSmtp) out.push({ segs: [...segs, 'smtp'], message: `${what} can use smtp only with auth type smtp (this connector uses ${m.auth?.type}); an HTTP API takes a request`, rule: 'smtp_transport' });
    else if (spec.request !== undefined && isSmtp) {
      const instead = what === 'verify' ? 'verify: { smtp: true }' : 'smtp: { message: <JSONata giving the message> }';
      out.push({ segs: [...segs, 'request'], message: `an smtp connector has no HTTP API: give ${instead} instead of request`, rule: 'smtp_transport' });
    }
  };
  for (const [name, cap] of Object.entries(m.capabilities ?? {})) {
    if (!cap || typeof cap !== 'object') continue;
    sent(['capabilities', name], cap, `capability "${name}"`);
    (cap.examples ?? []).forEach((ex, i) => {
      if (ex && ex.message !== undefined && cap.smtp === undefined) out.push({ segs: ['capabilities', name, 'examples', i, 'message'], message: 'only an smtp capability has an expected message (compare the request instead)', rule: 'example_message' });
    });
  }
  if (m.verify && typeof m.verify === 'object') sent(['verify'], m.verify, 'verify');
  return out;
}
