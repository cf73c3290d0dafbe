// API keys: `pb_` + 32 random base62 characters, stored only as a SHA-256 hash plus a short
// display prefix. Scopes: read, write, delete, admin.
import { randomInt, createHash } from 'node:crypto';
import { newId } from '../store/ids.ts';
import type { Store, ApiKeyRow } from '../store/types.ts';

export const SCOPES = ['read', 'write', 'delete', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';


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
  /** Who acts, for audit and usage: key:<id> or client:<id>. */
  actor: string;
  kind: 'api_key' | 'oauth_client';
  /** The API key id or OAuth client id. */
  credentialId: string;
}

/** Resolves a presented key to its tenant and scopes; undefined for unknown, revoked or expired keys. */
/**
 * The principal of a presented API key; `genuine` when the key was issued (also when it has since
 * expired or been revoked), so the brute-force throttle counts only guesses.
 */
export async function checkApiKey(store: Store, presented: string): Promise<{ principal?: Principal; genuine: boolean }> {
  if (!API_KEY_PATTERN.test(presented)) return { genuine: false };
  // Lookup by hash: comparing hashes of a fixed-length digest leaks nothing useful through timing.
  const row = await store.apiKeys.findByHash(hashApiKey(presented));
  if (!row) return { genuine: false };
  if (row.revoked_at || (row.expires_at && Date.parse(row.expires_at) <= Date.now())) return { genuine: true };
  return { principal: { tenantId: row.tenant_id, scopes: row.scopes as Scope[], actor: `key:${row.id}`, kind: 'api_key', credentialId: row.id }, genuine: true };
}

export function apiKeyView(row: ApiKeyRow) {
  return { id: row.id, name: row.name, prefix: row.prefix, scopes: row.scopes, expires_at: row.expires_at, last_used_at: row.last_used_at, created_at: row.created_at };
}

/**
 * last_used_at without a write per request: uses are kept in memory and written in one
 * transaction every few seconds (and on shutdown).
 */
export class LastUsedTracker {
  private pending = new Map<string, string>();
  private timer: NodeJS.Timeout;

  constructor(private readonly store: Store, intervalMs = 5000) {
    this.timer = setInterval(() => this.flush().catch(() => undefined), intervalMs);
    this.timer.unref();
  }

  used(keyId: string): void {
    this.pending.set(keyId, new Date().toISOString());
  }

  async flush(): Promise<void> {
    if (!this.pending.size) return;
    const batch = [...this.pending].map(([id, at]) => ({ id, at }));
    this.pending = new Map();
    try {
      await this.store.apiKeys.touch(batch);
    } catch (err) {
      for (const u of batch) if (!this.pending.has(u.id)) this.pending.set(u.id, u.at); // try again next time
      throw err;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
