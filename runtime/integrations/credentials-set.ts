// Which credential fields of an integration hold a value (GET /integrations: credentials_set), so a
// client can say "stored" of a secret that is stored and not of an optional one never given. Names
// only: values never leave the service.
import type { Connector } from '../manifest/connector.ts';
import type { IntegrationRow } from '../store/types.ts';

const given = (v: unknown) => v !== undefined && v !== null && v !== '';

/**
 * The declared credential fields with a value, in the manifest's order. A required field always has
 * one (no credentials are stored without it). Optional sensitive values are sealed, so `open`
 * decrypts them (two AES-GCM operations), only for connectors that have such a field; when they
 * cannot be opened (a master key not in the keyring) they count as not set.
 */
export function credentialsSet(c: Connector | undefined, row: IntegrationRow, open: () => Record<string, unknown>): string[] {
  const fields = Object.entries(c?.credentialSchema ?? {});
  let stored: Record<string, unknown> | undefined;
  if (fields.some(([, f]) => f.sensitive && !f.required)) {
    try {
      stored = open();
    } catch {
      stored = undefined;
    }
  }
  return fields
    .filter(([name, f]) => (f.sensitive ? f.required || (stored !== undefined && given(stored[name])) : given(row.credentials_public[name])))
    .map(([name]) => name);
}
