// Where outbound webhooks may go (DESIGN §4): https only outside development; loopback, private,
// link-local and other non-public addresses refused unless PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS=1.
// Hostnames are resolved (every address) and refused if any address is not public. Because DNS
// can change between the check and the request (DNS rebinding), the sender connects through
// `guardedLookup`, which applies the same rule to the addresses it actually connects to. The address
// classification and the guarded lookup are runtime/http/address-policy.ts (providers use them too).
import net from 'node:net';
import { PlugboardError } from '../errors/plugboard-error.ts';
import { addressProblem, bareHost, classifyAddress, guardedLookup as guardedHttpLookup, systemResolver, type ResolvedAddress, type Resolver } from '../http/address-policy.ts';

export { classifyAddress, isPrivateAddress, systemResolver, type Resolver } from '../http/address-policy.ts';

export interface UrlPolicy {
  /** Allow `http:` targets (development, tests). */
  allowHttp: boolean;
  /** Allow loopback/private/link-local/reserved targets (PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS=1). */
  allowPrivate: boolean;
}

export type UrlCheck =
  | { ok: true; url: URL; /** Addresses the host resolved to (empty when not resolved). */ addresses: string[] }
  | { ok: false; message: string; errors: { url: string[] } };

export const MAX_URL_LENGTH = 2048;

function flag(v: string | undefined): boolean {
  return v === '1' || v?.toLowerCase() === 'true';
}

export function policyFromEnv(env: NodeJS.ProcessEnv = process.env): UrlPolicy {
  const allowPrivate = flag(env.PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS);
  return { allowPrivate, allowHttp: allowPrivate || env.NODE_ENV === 'development' };
}

// ---- URL checks -------------------------------------------------------------------------

function refuse(reason: string): UrlCheck {
  return { ok: false, message: `The webhook URL is not allowed: it ${reason}.`, errors: { url: [reason] } };
}

/**
 * The checks that need no DNS: syntax, scheme, length, and IP-literal hosts. `new URL` already
 * normalises 2130706433, 0x7f.1 and 0177.0.0.1 to 127.0.0.1, so those are caught here.
 */
export function checkUrlSyntax(raw: unknown, policy: UrlPolicy): UrlCheck {
  if (typeof raw !== 'string' || raw.trim() === '') return refuse('must be a non-empty string');
  if (raw.length > MAX_URL_LENGTH) return refuse(`must be at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse('must be an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return refuse('must use https');
  if (url.protocol === 'http:' && !policy.allowHttp) return refuse('must use https (http is allowed only in development)');
  const host = bareHost(url);
  if (!host) return refuse('must name a host');
  if (url.hash) return refuse('must not contain a #fragment');
  // Credentials in the URL would be stored and returned in plain text: refuse them (the reason
  // names neither the user nor the password).
  if (url.username || url.password) return refuse('must not contain a user name or password (user:password@); deliveries are signed instead');
  if (policy.allowPrivate) return { ok: true, url, addresses: net.isIP(host) ? [host] : [] };
  if (net.isIP(host)) {
    const why = classifyAddress(host);
    return why ? refuse(`points to ${why} (${host}); set PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS=1 to allow private targets`) : { ok: true, url, addresses: [host] };
  }
  if (host === 'localhost' || host.endsWith('.localhost')) return refuse(`points to a loopback address (${host})`);
  if (!host.includes('.')) return refuse(`must use a fully qualified host name, not "${host}"`);
  if (/\.(local|internal|localdomain|home\.arpa)$/.test(host)) return refuse(`points to a private network name (${host})`);
  return { ok: true, url, addresses: [] };
}

function checkAddresses(host: string, addresses: readonly string[]): string | undefined {
  const why = addressProblem(host, addresses);
  return why ? `${why}; set PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS=1 to allow private targets` : undefined;
}

/**
 * Full check of a subscription's target URL: syntax and scheme, then — unless private targets are
 * allowed — every address the host resolves to must be public. Use when a subscription is
 * created or its URL changed; errors name the field `url` (the API's 422 shape).
 */
export async function checkWebhookUrl(
  raw: unknown,
  opts: { policy?: UrlPolicy; resolver?: Resolver } = {},
): Promise<UrlCheck> {
  const policy = opts.policy ?? policyFromEnv();
  const syntax = checkUrlSyntax(raw, policy);
  if (!syntax.ok || policy.allowPrivate || syntax.addresses.length) return syntax;
  const host = bareHost(syntax.url);
  let resolved: ResolvedAddress[];
  try {
    resolved = await (opts.resolver ?? systemResolver)(host);
  } catch (err) {
    const code = (err as { code?: string }).code;
    return refuse(`has a host that could not be resolved (${host}${code ? `: ${code}` : ''})`);
  }
  if (!resolved.length) return refuse(`has a host that could not be resolved (${host})`);
  const addresses = resolved.map((r) => r.address);
  const why = checkAddresses(host, addresses);
  return why ? refuse(why) : { ok: true, url: syntax.url, addresses };
}

/**
 * Re-check one address right before connecting (DNS rebinding): refuses a non-public address
 * unless the policy allows private targets.
 */
export function checkResolvedAddress(address: string, policy: UrlPolicy, host = address): { ok: true } | { ok: false; message: string } {
  if (policy.allowPrivate) return { ok: true };
  const why = checkAddresses(host, [address]);
  return why ? { ok: false, message: `The webhook URL is not allowed: it ${why}.` } : { ok: true };
}

export class UrlPolicyError extends PlugboardError {
  readonly field = 'url';
  constructor(message: string) {
    super('validation', message, { code: 'EWEBHOOKPOLICY' });
  }
}

/**
 * A `lookup` for net/tls (and so for an undici Agent's `connect` options) that resolves with
 * `resolver` and fails the connection if any address is not public. This is the check that holds
 * against DNS rebinding, since it judges the very addresses the socket will use.
 */
export function guardedLookup(policy: UrlPolicy, resolver: Resolver = systemResolver) {
  return guardedHttpLookup({
    allowPrivate: policy.allowPrivate,
    resolver,
    refuse: (why) => new UrlPolicyError(`The webhook URL is not allowed: it ${why}; set PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS=1 to allow private targets.`),
  });
}
