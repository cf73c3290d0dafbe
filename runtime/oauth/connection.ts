// The connection object: what the manifest's auth.connection (JSONata) maps out of a token
// response (Salesforce instance_url, Zoho api_domain, ...). Not secret: stored in clear and shown.
import type { Connector } from '../manifest/connector.ts';
import { toPlain } from '../lang/expressions.ts';

const TOKEN_FIELDS = ['access_token', 'refresh_token', 'id_token'];

export async function mapConnection(c: Connector, response: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (!c.auth.connection) return {};
  const out = toPlain(await c.auth.connection.evaluate(response));
  if (!out || typeof out !== 'object' || Array.isArray(out)) return {};
  // A mapping must never copy a token into the (unsealed) connection.
  const secrets = new Set(TOKEN_FIELDS.map((k) => response[k]).filter((v): v is string => typeof v === 'string'));
  return Object.fromEntries(Object.entries(out as Record<string, unknown>).filter(([, v]) => !(typeof v === 'string' && secrets.has(v))));
}
