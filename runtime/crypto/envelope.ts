// Envelope encryption of credentials: each integration has its own random AES-256-GCM data key;
// the data key is stored only wrapped (encrypted) by a master key. Associated data binds a
// ciphertext to its tenant and integration, so a sealed blob copied to another row fails to open.
import { randomBytes, createCipheriv, createDecipheriv } from 'node:crypto';
import type { Keyring } from './keyring.ts';
import { PlugboardError } from '../errors/plugboard-error.ts';

/** The code of the error thrown when the master key that wrapped a data key is not in the keyring. */
export const MASTER_KEY_UNAVAILABLE = 'master_key_unavailable';

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

function seal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), ct]);
}

function open(key: Buffer, blob: Buffer, aad: string): Buffer {
  if (blob[0] !== VERSION) throw new Error('unknown ciphertext version');
  const iv = blob.subarray(1, 1 + IV_BYTES);
  const tag = blob.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(blob.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
}

export interface SealedCredentials {
  credentials_sealed: Buffer;
  data_key_wrapped: Buffer;
  master_key_id: string;
}

export class CredentialCipher {
  constructor(private readonly keyring: Keyring) {}

  private static aad(tenantId: string, integrationId: string, what: string): string {
    return `plugboard:${what}:${tenantId}:${integrationId}`;
  }

  seal(tenantId: string, integrationId: string, credentials: Record<string, unknown>): SealedCredentials {
    const dataKey = randomBytes(32);
    const master = this.keyring.active;
    return {
      credentials_sealed: seal(dataKey, Buffer.from(JSON.stringify(credentials)), CredentialCipher.aad(tenantId, integrationId, 'credentials')),
      data_key_wrapped: seal(master.key, dataKey, CredentialCipher.aad(tenantId, integrationId, 'data-key')),
      master_key_id: master.id,
    };
  }

  private unwrap(tenantId: string, integrationId: string, wrapped: Buffer, masterKeyId: string): Buffer {
    const master = this.keyring.find(masterKeyId);
    // Not a bug but a deployment state (another PLUGBOARD_MASTER_KEY, a stale key file after a
    // rotation with --prune): a typed, retryable error naming the key id (never key material).
    if (!master) {
      throw new PlugboardError('unavailable', `master key ${masterKeyId} is not available: credentials of integration ${integrationId} cannot be opened`, { code: MASTER_KEY_UNAVAILABLE, retryAfter: 60 });
    }
    return open(master.key, wrapped, CredentialCipher.aad(tenantId, integrationId, 'data-key'));
  }

  open(tenantId: string, integrationId: string, sealed: SealedCredentials): Record<string, unknown> {
    const dataKey = this.unwrap(tenantId, integrationId, sealed.data_key_wrapped, sealed.master_key_id);
    return JSON.parse(open(dataKey, sealed.credentials_sealed, CredentialCipher.aad(tenantId, integrationId, 'credentials')).toString('utf8')) as Record<string, unknown>;
  }

  /**
   * Seals another secret of the same integration (OAuth tokens) under its existing data key, so
   * master key rotation (which re-wraps that key) keeps it readable. `what` separates its AAD.
   */
  sealBeside(tenantId: string, integrationId: string, key: Omit<SealedCredentials, 'credentials_sealed'>, what: string, value: unknown): Buffer {
    const dataKey = this.unwrap(tenantId, integrationId, key.data_key_wrapped, key.master_key_id);
    return seal(dataKey, Buffer.from(JSON.stringify(value)), CredentialCipher.aad(tenantId, integrationId, what));
  }

  openBeside(tenantId: string, integrationId: string, key: Omit<SealedCredentials, 'credentials_sealed'>, what: string, blob: Buffer): unknown {
    const dataKey = this.unwrap(tenantId, integrationId, key.data_key_wrapped, key.master_key_id);
    return JSON.parse(open(dataKey, blob, CredentialCipher.aad(tenantId, integrationId, what)).toString('utf8'));
  }

  /** Re-wraps a data key with the active master key (master key rotation); the sealed credentials are untouched. */
  rewrap(tenantId: string, integrationId: string, wrapped: Buffer, masterKeyId: string): { data_key_wrapped: Buffer; master_key_id: string } {
    const dataKey = this.unwrap(tenantId, integrationId, wrapped, masterKeyId);
    const master = this.keyring.active;
    return { data_key_wrapped: seal(master.key, dataKey, CredentialCipher.aad(tenantId, integrationId, 'data-key')), master_key_id: master.id };
  }
}
