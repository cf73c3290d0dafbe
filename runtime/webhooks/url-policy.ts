// Where outbound webhooks may go (DESIGN §4): https only outside development; loopback, private,
// link-local and other non-public addresses refused unless PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS=1.
// Hostnames are resolved (every address) and refused if any address is not public. Because DNS
// can change between the check and the request (DNS rebinding), the sender connects through
// `guardedLookup`, which applies the same rule to the addresses it actually connects to.
import dns from 'node:dns';
import net from 'node:net';
import { PlugboardError } from '../errors/plugboard-error.ts';

export interface UrlPolicy {
  /** Allow `http:` targets (development, tests). */
  allowHttp: boolean;
  /** Allow loopback/private/link-local/reserved targets (PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS=1). */
  allowPrivate: boolean;
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a hostname to every address it has (like `dns.lookup(host, { all: true })`). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

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

export const systemResolver: Resolver = async (hostname) => {
  const all = await dns.promises.lookup(hostname, { all: true, verbatim: true });
  return all.map((a) => ({ address: a.address, family: a.family }));
};

// ---- address classification -------------------------------------------------------------

function ipv4Bytes(ip: string): number[] | undefined {
  if (net.isIPv4(ip)) return ip.split('.').map(Number);
  return undefined;
}

/** 16 bytes of an IPv6 address (handles `::` and a trailing dotted IPv4 part). */
function ipv6Bytes(ip: string): number[] | undefined {
  if (!net.isIPv6(ip)) return undefined;
  let s = ip.replace(/%.*$/, '');
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    tail.push(...ipv4Bytes(dotted[1])!);
    s = s.slice(0, -dotted[1].length) + '0:0';
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const r = rest !== undefined ? (rest ? rest.split(':') : []) : [];
  const groups = rest !== undefined ? [...h, ...Array(8 - h.length - r.length).fill('0'), ...r] : h;
  const bytes: number[] = [];
  for (const g of groups) {
    const v = parseInt(g || '0', 16);
    bytes.push(v >> 8, v & 0xff);
  }
  if (dotted) bytes.splice(12, 4, ...tail);
  return bytes.length === 16 ? bytes : undefined;
}

function inRange(bytes: number[], prefix: number[], bits: number): boolean {
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3;
    const mask = 0x80 >> (i & 7);
    if ((bytes[byte] & mask) !== ((prefix[byte] ?? 0) & mask)) return false;
  }
  return true;
}

const V4_RANGES: Array<[number[], number, string]> = [
  [[0, 0, 0, 0], 8, 'an unspecified ("this network") address'],
  [[10, 0, 0, 0], 8, 'a private address'],
  [[100, 64, 0, 0], 10, 'a shared (carrier-grade NAT) address'],
  [[127, 0, 0, 0], 8, 'a loopback address'],
  [[169, 254, 0, 0], 16, 'a link-local address'],
  [[172, 16, 0, 0], 12, 'a private address'],
  [[192, 0, 0, 0], 24, 'a reserved address'],
  [[192, 0, 2, 0], 24, 'a documentation address'],
  [[192, 88, 99, 0], 24, 'a reserved address'],
  [[192, 168, 0, 0], 16, 'a private address'],
  [[198, 18, 0, 0], 15, 'a benchmarking address'],
  [[198, 51, 100, 0], 24, 'a documentation address'],
  [[203, 0, 113, 0], 24, 'a documentation address'],
  [[224, 0, 0, 0], 4, 'a multicast address'],
  [[240, 0, 0, 0], 4, 'a reserved address'],
];

function classifyV4(b: number[]): string | undefined {
  for (const [prefix, bits, label] of V4_RANGES) if (inRange(b, prefix, bits)) return label;
  return undefined;
}

function classifyV6(b: number[]): string | undefined {
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  if (zero(0, 15) && b[15] === 0) return 'an unspecified address';
  if (zero(0, 15) && b[15] === 1) return 'a loopback address';
  // IPv4-mapped ::ffff:a.b.c.d and IPv4-translated ::ffff:0:a.b.c.d: judge the embedded IPv4 address.
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return classifyV4(b.slice(12));
  if (zero(0, 8) && b[8] === 0xff && b[9] === 0xff && b[10] === 0 && b[11] === 0) return classifyV4(b.slice(12));
  // Deprecated IPv4-compatible ::a.b.c.d: never a legitimate destination today.
  if (zero(0, 12)) return 'a reserved (IPv4-compatible) address';
  // NAT64 64:ff9b::a.b.c.d reaches the embedded IPv4 address.
  if (inRange(b, [0x00, 0x64, 0xff, 0x9b], 96)) return classifyV4(b.slice(12));
  if (inRange(b, [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48)) return 'a private (local-use NAT64) address';
  if (inRange(b, [0x01, 0x00], 64)) return 'a discard-only address';
  if (inRange(b, [0x20, 0x01, 0x0d, 0xb8], 32)) return 'a documentation address';
  if (inRange(b, [0x20, 0x01, 0x00, 0x00], 32)) return 'a Teredo tunnel address';
  // 6to4 2002:a.b.c.d::/48 reaches the embedded IPv4 address.
  if (inRange(b, [0x20, 0x02], 16)) return classifyV4(b.slice(2, 6));
  if (inRange(b, [0xfc], 7)) return 'a private (unique local) address';
  if (inRange(b, [0xfe, 0x80], 10)) return 'a link-local address';
  if (inRange(b, [0xfe, 0xc0], 10)) return 'a site-local address';
  if (inRange(b, [0xff], 8)) return 'a multicast address';
  return undefined;
}

/**
 * Why an IP address may not receive webhooks ("a loopback address", "a private address", ...),
 * or undefined for a public unicast address. Anything that is not an IP address is refused.
 */
export function classifyAddress(ip: string): string | undefined {
  const v4 = ipv4Bytes(ip);
  if (v4) return classifyV4(v4);
  const v6 = ipv6Bytes(ip);
  if (v6) return classifyV6(v6);
  return 'not an IP address';
}

export function isPrivateAddress(ip: string): boolean {
  return classifyAddress(ip) !== undefined;
}

// ---- URL checks -------------------------------------------------------------------------

function refuse(reason: string): UrlCheck {
  return { ok: false, message: `The webhook URL is not allowed: it ${reason}.`, errors: { url: [reason] } };
}

/** The host of a URL without IPv6 brackets, lower case. */
function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
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
  for (const a of addresses) {
    const why = classifyAddress(a);
    if (why) return `resolves to ${why} (${host} -> ${a}); set PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS=1 to allow private targets`;
  }
  return undefined;
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

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net/tls (and so for an undici Agent's `connect` options) that resolves with
 * `resolver` and fails the connection if any address is not public. This is the check that holds
 * against DNS rebinding, since it judges the very addresses the socket will use.
 */
export function guardedLookup(policy: UrlPolicy, resolver: Resolver = systemResolver) {
  return (hostname: string, options: dns.LookupOptions | number | LookupCallback, callback?: LookupCallback): void => {
    const cb = (typeof options === 'function' ? options : callback)!;
    const opts = typeof options === 'object' && options !== null ? options : {};
    resolver(hostname).then(
      (all) => {
        let list = all;
        if (opts.family === 4 || opts.family === 6) list = all.filter((a) => a.family === opts.family);
        if (!list.length) {
          const e = new Error(`getaddrinfo ENOTFOUND ${hostname}`) as NodeJS.ErrnoException;
          e.code = 'ENOTFOUND';
          return cb(e, '');
        }
        if (!policy.allowPrivate) {
          const why = checkAddresses(hostname, list.map((a) => a.address));
          if (why) return cb(new UrlPolicyError(`The webhook URL is not allowed: it ${why}.`) as NodeJS.ErrnoException, '');
        }
        if (opts.all) cb(null, list.map((a) => ({ address: a.address, family: a.family })));
        else cb(null, list[0].address, list[0].family);
      },
      (err: NodeJS.ErrnoException) => cb(err, ''),
    );
  };
}
