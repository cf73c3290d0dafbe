// Who is calling: an API key or an OAuth access token, from `Authorization: Bearer` or `X-API-Key`,
// or (at the OAuth endpoints) an OAuth client by its id and secret. Failed attempts are throttled per
// client address (runtime/access/auth-throttle.ts). Scopes are enforced per operation from
// `x-required-scope` in schemas/openapi.yaml.
import type { Request } from 'express';
import type { Principal, Scope } from '../access/api-keys.ts';
import { authenticateApiKey } from '../access/api-keys.ts';
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
 * The principal of a presented API key or access token. An address that has failed too often gets
 * `retryAfter` instead, before the credential is looked at (so it cannot tell a right guess).
 */
export async function authenticatePresented(platform: Platform, presented: string, address: string | undefined): Promise<{ principal?: Principal; retryAfter?: number }> {
  const retryAfter = await platform.authThrottle.retryAfter(address);
  if (retryAfter !== undefined) return { retryAfter };
  const principal = looksLikeJwt(presented) ? await platform.oauth.verifyToken(presented) : await authenticateApiKey(platform.store, presented);
  if (!principal) await platform.authThrottle.failed(address);
  return { principal };
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
