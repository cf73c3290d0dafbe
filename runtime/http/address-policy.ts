// Which network addresses a connection may reach when a tenant, not the operator, chose the host:
// outbound webhook targets (runtime/webhooks/url-policy.ts) and provider servers named in the
// credentials (CalDAV's calendar_url, an SMTP host). Loopback, private, link-local, metadata and other
// non-public addresses are refused unless the caller allows them. A host name is judged by every
// address it resolves to; because DNS can change between a check and the connection (DNS rebinding),
// connections go through `guardedLookup`, which judges the very addresses the socket will use.
import dns from 'node:dns';
import net from 'node:net';
import { PlugboardError } from '../errors/plugboard-error.ts';

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a hostname to every address it has (like `dns.lookup(host, { all: true })`). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

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
 * Why an IP address may not be reached ("a loopback address", "a private address", ...), or
 * undefined for a public unicast address. Anything that is not an IP address is refused.
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

// ---- hosts ------------------------------------------------------------------------------

/** The host of a URL without IPv6 brackets, lower case. */
export function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

/**
 * What can be said of a host without DNS: an IP literal judged by its address, `localhost` (and
 * `*.localhost`, RFC 6761) as loopback. Undefined when the host is a name DNS has to judge.
 */
export function literalHostProblem(host: string): string | undefined {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, '');
  if (net.isIP(h)) {
    const why = classifyAddress(h);
    return why ? `points to ${why} (${h})` : undefined;
  }
  if (h === 'localhost' || h.endsWith('.localhost')) return `points to a loopback address (${h})`;
  return undefined;
}

/** The first non-public address among those `host` resolved to, as "resolves to a ... (host -> a)". */
export function addressProblem(host: string, addresses: readonly string[]): string | undefined {
  for (const a of addresses) {
    const why = classifyAddress(a);
    if (why) return `resolves to ${why} (${host} -> ${a})`;
  }
  return undefined;
}

/** A connection refused by an address policy: the socket was never opened (nothing was sent). */
export class AddressPolicyError extends PlugboardError {
  constructor(message: string, readonly reason: string, code = 'EADDRESSPOLICY') {
    super('validation', message, { code });
  }
}

/** The AddressPolicyError in an error's cause chain (undici and net wrap what `lookup` gave). */
export function findAddressPolicyError(err: unknown): AddressPolicyError | undefined {
  for (let c: unknown = err, n = 0; c && typeof c === 'object' && n < 5; c = (c as { cause?: unknown }).cause, n++) {
    if (c instanceof AddressPolicyError) return c;
  }
  return undefined;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

export interface GuardOptions {
  /** Resolve only, refusing nothing (private targets allowed). */
  allowPrivate?: boolean;
  /** DNS for the check; the system's by default. */
  resolver?: Resolver;
  /** The error a refused connection fails with; `reason` is addressProblem()'s text. */
  refuse?: (reason: string) => Error;
}

/**
 * A `lookup` for net/tls (and so for an undici Agent's `connect` options) that resolves with the
 * resolver and fails the connection if any address is not public. This is the check that holds
 * against DNS rebinding, since it judges the very addresses the socket will use. IP-literal hosts
 * never reach a lookup: check them with literalHostProblem() first.
 */
export function guardedLookup(opts: GuardOptions = {}) {
  const resolver = opts.resolver ?? systemResolver;
  const refuse = opts.refuse ?? ((reason: string) => new AddressPolicyError(`connection refused: the host ${reason}`, reason));
  return (hostname: string, options: dns.LookupOptions | number | LookupCallback, callback?: LookupCallback): void => {
    const cb = (typeof options === 'function' ? options : callback)!;
    const lookupOpts = typeof options === 'object' && options !== null ? options : {};
    resolver(hostname).then(
      (all) => {
        let list = all;
        if (lookupOpts.family === 4 || lookupOpts.family === 6) list = all.filter((a) => a.family === lookupOpts.family);
        if (!list.length) {
          const e = new Error(`getaddrinfo ENOTFOUND ${hostname}`) as NodeJS.ErrnoException;
          e.code = 'ENOTFOUND';
          return cb(e, '');
        }
        const why = opts.allowPrivate ? undefined : addressProblem(hostname, list.map((a) => a.address));
        if (why) return cb(refuse(why) as NodeJS.ErrnoException, '');
        if (lookupOpts.all) cb(null, list.map((a) => ({ address: a.address, family: a.family })));
        else cb(null, list[0].address, list[0].family);
      },
      (err: NodeJS.ErrnoException) => cb(err, ''),
    );
  };
}

/**
 * Judges a host before anything connects (e.g. when a tenant saves it): literal checks, then every
 * address it resolves to. A host that cannot be resolved (or not within `timeoutMs`) is not judged
 * (`unresolved`): the connect-time guard still holds when it is used.
 */
export async function checkHost(host: string, opts: { resolver?: Resolver; timeoutMs?: number } = {}): Promise<{ problem?: string; unresolved?: boolean }> {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, '');
  const literal = literalHostProblem(h);
  if (literal || net.isIP(h)) return { problem: literal };
  let timer: NodeJS.Timeout | undefined;
  try {
    const resolved = await Promise.race([
      (opts.resolver ?? systemResolver)(h),
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('timeout')), opts.timeoutMs ?? 5000); }),
    ]);
    if (!resolved.length) return { unresolved: true };
    return { problem: addressProblem(h, resolved.map((r) => r.address)) };
  } catch {
    return { unresolved: true };
  } finally {
    clearTimeout(timer);
  }
}
