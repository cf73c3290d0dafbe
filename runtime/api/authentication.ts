// Who is calling: an API key or an OAuth access token, from `Authorization: Bearer` or `X-API-Key`.
// Scopes are enforced per operation from `x-required-scope` in schemas/openapi.yaml.
import type { Request } from 'express';
import type { Principal, Scope } from '../access/api-keys.ts';

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
