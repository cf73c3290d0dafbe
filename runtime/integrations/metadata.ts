// An integration's metadata is the tenant's free-form object: stored and returned, never
// interpreted. State the system keeps about the integration lives apart (system_metadata) and is
// shown merged into `metadata` in responses; a tenant may not write those keys. The environment
// (which base URL the engine uses) is its own field, checked against the manifest.
import type { Connector } from '../manifest/connector.ts';
import { invalid } from '../errors/plugboard-error.ts';

/** Keys only the system sets (DESIGN §3, §10). */
export const SYSTEM_METADATA_KEYS = ['verification_error', 'verification_error_type', 'next_verification_at', 'verification', 'needs_reauth', 'reauth_reason'] as const;

const SYSTEM_KEYS = new Set<string>(SYSTEM_METADATA_KEYS);

/** Refuses a tenant's write (a value or a null removal) to a key the system sets: 422 naming `metadata.<key>`. */
export function checkTenantMetadata(metadata: Record<string, unknown>): void {
  const errors: Record<string, string[]> = {};
  for (const key of Object.keys(metadata)) {
    if (SYSTEM_KEYS.has(key)) errors[`metadata.${key}`] = ['is set by Plugboard and cannot be written'];
  }
  if (Object.keys(errors).length) throw invalid(errors);
}

/** An integration's metadata object is at most this many bytes as JSON (UTF-8), after a PATCH merge. */
export const MAX_METADATA_BYTES = 16 * 1024;

/** Refuses metadata over MAX_METADATA_BYTES: 422 naming `metadata`. */
export function checkMetadataSize(metadata: Record<string, unknown>): void {
  const bytes = Buffer.byteLength(JSON.stringify(metadata), 'utf8');
  if (bytes > MAX_METADATA_BYTES) throw invalid({ metadata: [`must be at most ${MAX_METADATA_BYTES / 1024} KB as JSON (is ${bytes} bytes)`] });
}

/** The tenant's metadata with the system's keys over it, as responses show it. */
export function mergedMetadata(metadata: Record<string, unknown>, system: Record<string, unknown>): Record<string, unknown> {
  return { ...metadata, ...system };
}

/** Validates an `environment` value (null clears it): 422 naming `environment`. */
export function checkEnvironment(c: Connector, environment: unknown): string | null {
  if (environment === undefined || environment === null) return null;
  const names = Object.keys(c.environments);
  if (typeof environment === 'string' && names.includes(environment)) return environment;
  throw invalid({ environment: [names.length ? `must be one of: ${names.join(', ')}` : `${c.name} has no environments`] });
}

/** System metadata without the verification keys (a new verification starts clean). */
export function withoutVerification(system: Record<string, unknown>): Record<string, unknown> {
  const { verification_error: _e, verification_error_type: _t, next_verification_at: _n, verification: _v, ...rest } = system;
  return rest;
}
