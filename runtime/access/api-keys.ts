// API keys: `pb_` + 32 random base62 characters, stored only as a SHA-256 hash plus a short
// display prefix. Scopes: read, write, delete, admin.
import { randomInt, createHash } from 'node:crypto';
import { ulid } from 'ulid';
import type { Store, ApiKeyRow } from '../store/types.ts';

export const SCOPES = ['read', 'write', 'delete', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function newId(): string {
  return ulid().toLowerCase();
}

export function generateApiKey(): string {
  let s = 'pb_';
  for (let i = 0; i < 32; i++) s += BASE62[randomInt(62)];
  return s;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export const API_KEY_PATTERN = /^pb_[0-9A-Za-z]{32}$/;

export async function createApiKey(store: Store, tenantId: string, opts: { name: string; scopes: Scope[]; expiresAt?: string | null }): Promise<{ row: ApiKeyRow; key: string }> {
  const key = generateApiKey();
  const row: ApiKeyRow = {
    id: newId(),
    tenant_id: tenantId,
    name: opts.name,
    prefix: key.slice(0, 7),
    key_hash: hashApiKey(key),
    scopes: opts.scopes,
    expires_at: opts.expiresAt ?? null,
    last_used_at: null,
    revoked_at: null,
    created_at: new Date().toISOString(),
  };
  await store.apiKeys.create(row);
  return { row, key };
}

export interface Principal {
  tenantId: string;
  scopes: Scope[];
  /** Who acts: the key's id (for audit). */
  actor: string;
}

/** Resolves a presented key to its tenant and scopes; undefined for unknown, revoked or expired keys. */
export async function authenticateApiKey(store: Store, presented: string): Promise<Principal | undefined> {
  if (!API_KEY_PATTERN.test(presented)) return undefined;
  // Lookup by hash: comparing hashes of a fixed-length digest leaks nothing useful through timing.
  const row = await store.apiKeys.findByHash(hashApiKey(presented));
  if (!row || row.revoked_at) return undefined;
  if (row.expires_at && Date.parse(row.expires_at) <= Date.now()) return undefined;
  return { tenantId: row.tenant_id, scopes: row.scopes as Scope[], actor: `key:${row.id}` };
}
