// Saving credentials that name the provider's server (CalDAV's calendar_url, an SMTP host): a server
// at a loopback, private, link-local or metadata address is refused with a 422 naming the field,
// unless PLUGBOARD_ALLOW_PRIVATE_PROVIDERS=1. The engine judges the addresses again when it connects
// (runtime/engine/provider-hosts.ts), so a name that resolves elsewhere later is refused then too.
import type { Connector } from '../manifest/connector.ts';
import type { Engine } from '../engine/engine.ts';
import { invalid } from '../errors/plugboard-error.ts';

export async function checkProviderHosts(engine: Engine, c: Connector, credentials: Record<string, unknown>, metadata?: Record<string, unknown>): Promise<void> {
  const problems = await engine.checkProviderHosts(c, credentials, { metadata: metadata ?? {} });
  if (!problems) return;
  const [field, [first]] = Object.entries(problems)[0]!;
  throw invalid(problems, `The credentials name a server Plugboard may not reach: ${field} ${first}.`, 'private_address');
}
