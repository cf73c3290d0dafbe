// Who is calling: an API key or an OAuth access token, from `Authorization: Bearer` or `X-API-Key`,
// or (at the OAuth endpoints) an OAuth client by its id and secret. Failed attempts are throttled per
// client address (runtime/access/auth-throttle.ts). Scopes are enforced per operation from
// `x-required-scope` in schemas/openapi.yaml.
import type { Request } from 'express';
import type { Principal, Scope } from '../access/api-keys.ts';
import { checkApiKey } from '../access/api-keys.ts';
import { looksLikeJwt } from '../access/oauth.ts';
import type { Platform } from '../platform/platform.ts';

export function presentedKey(req: Request): string | undefined {
  const auth = req.headers['authorization'];
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const header = req.headers['x-api-key'];
  return typeof header === 'string' && header ? header.trim() : undefined;
}

/** admin implies every scope; the others stand alone. */
export function hasScope(principal: Principal, required: Scope): boolean {
  return principal.scopes.includes('admin') || principal.scopes.includes(required);
}

/**
 * The principal of a presented API key or access token, checked first, so a right credential passes
 * from any address. A guess (not an issued key, not a token this server signed) counts against the
 * address; past its budget the failure carries `retryAfter` (429) instead of being a plain 401. An
 * issued key or token that expired or was revoked is refused without counting.
 */
export async function authenticatePresented(platform: Platform, presented: string, address: string | undefined): Promise<{ principal?: Principal; retryAfter?: number }> {
  const r = looksLikeJwt(presented) ? await platform.oauth.checkToken(presented) : await checkApiKey(platform.store, presented);
  if (r.principal) return { principal: r.principal };
  if (r.genuine) return {};
  return { retryAfter: await platform.authThrottle.failed(address) };
}

/** OAuth client credentials of a request: HTTP Basic (RFC 6749 §2.3.1) or client_id/client_secret in the form. */
export function clientCredentials(req: Request): { id?: string; secret?: string; basic: boolean; both: boolean } | undefined {
  const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
  const inBody = typeof body['client_id'] === 'string' || typeof body['client_secret'] === 'string';
  const basic = basicCredentials(req.headers['authorization']);
  if (basic) return { ...basic, basic: true, both: inBody };
  if (!inBody) return undefined;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return { id: str(body['client_id']), secret: str(body['client_secret']), basic: false, both: false };
}

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  // RFC 6749 §2.3.1: both parts are form-urlencoded inside Basic.
  const dec = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s;
    }
  };
  return { id: dec(decoded.slice(0, i)), secret: dec(decoded.slice(i + 1)) };
}
