// Provider servers a tenant names: a base_url templated from credentials.* (CalDAV's calendar_url) and
// the host of an smtp connector (credentials.host). Plugboard reaches them only at public addresses
// unless PLUGBOARD_ALLOW_PRIVATE_PROVIDERS=1 (self-hosting, tests), so a tenant cannot point the
// server at 127.0.0.1, 10.x or 169.254.169.254. Checked when credentials are saved (tenantHostProblems:
// the API's 422) and at connect time (publicOnly HTTP requests, the SMTP transport's guarded socket),
// where the addresses the socket uses are judged, so DNS rebinding does not get around it. Base URLs
// the operator sets (--base-url, PLUGBOARD_BASE_URL_<NAME>, the manifest's base_url/environments) and
// SMTP hosts the manifest fixes are not judged.
import type { Connector } from '../manifest/connector.ts';
import type { TemplateRef } from '../lang/templates.ts';
import { bareHost, checkHost, findAddressPolicyError, type Resolver } from '../http/address-policy.ts';
import { EngineError, failure } from '../http/errors.ts';
import type { HttpTransport } from '../http/transport.ts';

export const ALLOW_PRIVATE_PROVIDERS = 'PLUGBOARD_ALLOW_PRIVATE_PROVIDERS';
const HINT = `only public addresses are allowed for a server named in the credentials; the operator can set ${ALLOW_PRIVATE_PROVIDERS}=1 to allow private ones (self-hosting, tests)`;

/** PLUGBOARD_ALLOW_PRIVATE_PROVIDERS as the engine reads it when it is not given one (as runtime/config/env.ts does). */
export function allowPrivateProvidersIn(env: Record<string, string | undefined>): boolean {
  const v = env[ALLOW_PRIVATE_PROVIDERS]?.trim().toLowerCase();
  return v === '1' || v === 'true' || v === 'on' || v === 'yes';
}

/** Tenant-controlled values a template reads: credentials.<field> and integration.* (the tenant's metadata). */
function tenantFields(refs: readonly TemplateRef[] | undefined): string[] {
  const out = (refs ?? []).filter((r) => (r.path[0] === 'credentials' || r.path[0] === 'integration') && r.path.length > 1).map((r) => r.path.slice(0, r.path[0] === 'credentials' ? 2 : 3).join('.'));
  return [...new Set(out)];
}

/** The credential fields a templated base_url reads (credentials.calendar_url); empty when the base URL is the manifest's. */
export function baseUrlFields(connector: Connector): string[] {
  return tenantFields(connector.baseUrlTemplate?.refs).filter((f) => f.startsWith('credentials.'));
}

/** The fields an smtp connector's host comes from (credentials.host); empty when the manifest fixes the host. */
export function smtpHostFields(connector: Connector): string[] {
  return connector.auth.spec.type === 'smtp' ? tenantFields(connector.auth.templates.get('host')?.refs) : [];
}

/** A connection the policy refused, as the engine's typed failure naming the fields. */
export function refusedHost(connector: Connector, fields: readonly string[], reason: string): EngineError {
  const named = fields.length ? fields : ['credentials'];
  return new EngineError(failure('invalid_credentials', `${connector.displayName} was not contacted: ${named.join(', ')} ${reason}; ${HINT}`, {
    fields: Object.fromEntries(named.map((f) => [f, [`${reason}; ${HINT}`]])),
    retryable: false,
  }));
}

/** The engine's transport for a base URL from the credentials: every request publicOnly, a refusal an invalid_credentials failure. */
export function publicOnlyTransport(inner: HttpTransport, connector: Connector, fields: readonly string[]): HttpTransport {
  return {
    async send(req) {
      try {
        return await inner.send({ ...req, publicOnly: true });
      } catch (err) {
        const refused = findAddressPolicyError(err);
        throw refused ? refusedHost(connector, fields, refused.reason) : err;
      }
    },
  };
}

export interface TenantHostCheck {
  credentials: Record<string, unknown>;
  integration?: { id?: string; environment?: string; metadata?: Record<string, unknown> };
  /** False when PLUGBOARD_BASE_URL_<NAME> (or another operator setting) replaces the templated base URL. */
  judgeBaseUrl: boolean;
  resolver?: Resolver;
}

/**
 * Save-time check of the servers the credentials name: field -> problems (the API's 422), or
 * undefined. A host DNS cannot resolve now is not refused here; the connect-time guard judges it when
 * it is used.
 */
export async function tenantHostProblems(connector: Connector, check: TenantHostCheck): Promise<Record<string, string[]> | undefined> {
  const hosts: Array<{ fields: string[]; host: string }> = [];
  const baseFields = baseUrlFields(connector);
  if (check.judgeBaseUrl && baseFields.length && connector.baseUrlTemplate) {
    try {
      hosts.push({ fields: baseFields, host: bareHost(new URL(connector.baseUrlTemplate.render({ connection: {}, credentials: check.credentials }).trim())) });
    } catch {
      // Not a URL: the credential schema (format uri) and the engine say so.
    }
  }
  const smtpFields = smtpHostFields(connector);
  if (smtpFields.length) {
    const integration = { id: check.integration?.id ?? '', environment: check.integration?.environment ?? '', metadata: check.integration?.metadata ?? {} };
    const host = connector.auth.templates.get('host')?.render({ credentials: check.credentials, integration }).trim();
    if (host) hosts.push({ fields: smtpFields, host });
  }
  const out: Record<string, string[]> = {};
  for (const { fields, host } of hosts) {
    const { problem } = await checkHost(host, { resolver: check.resolver });
    if (problem) for (const f of fields) (out[f] ??= []).push(`${problem}; ${HINT}`);
  }
  return Object.keys(out).length ? out : undefined;
}
