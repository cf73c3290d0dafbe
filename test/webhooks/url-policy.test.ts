import { describe, it, expect } from 'vitest';
import dns from 'node:dns';
import {
  checkWebhookUrl,
  checkUrlSyntax,
  checkResolvedAddress,
  classifyAddress,
  isPrivateAddress,
  policyFromEnv,
  guardedLookup,
  type Resolver,
  type UrlPolicy,
} from '../../runtime/webhooks/url-policy.ts';

const STRICT: UrlPolicy = { allowHttp: false, allowPrivate: false };
const DEV: UrlPolicy = { allowHttp: true, allowPrivate: false };
const OPEN: UrlPolicy = { allowHttp: true, allowPrivate: true };

/** A fake DNS: never touches the network. */
function fakeDns(table: Record<string, string[]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const fn = (async (host: string) => {
    calls.push(host);
    const list = table[host];
    if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  }) as Resolver & { calls: string[] };
  fn.calls = calls;
  return fn;
}

const resolver = fakeDns({
  'hooks.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
  'internal.example.com': ['10.1.2.3'],
  'mixed.example.com': ['93.184.216.34', '192.168.1.10'],
  'v6private.example.com': ['fd12:3456:789a::1'],
  'mapped.example.com': ['::ffff:127.0.0.1'],
});

async function refused(url: string, policy: UrlPolicy, pattern: RegExp) {
  const r = await checkWebhookUrl(url, { policy, resolver });
  expect(r.ok).toBe(false);
  if (!r.ok) {
    expect(Object.keys(r.errors)).toEqual(['url']);
    expect(r.errors.url[0]).toMatch(pattern);
    expect(r.message).toMatch(/^The webhook URL is not allowed: it /);
  }
}

describe('outbound URL policy', () => {
  it('accepts a public https URL and reports its addresses', async () => {
    const r = await checkWebhookUrl('https://hooks.example.com/plugboard?x=1', { policy: STRICT, resolver });
    expect(r).toMatchObject({ ok: true, addresses: ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'] });
    expect((await checkWebhookUrl('https://93.184.216.34:8443/h', { policy: STRICT, resolver })).ok).toBe(true);
    expect((await checkWebhookUrl('https://[2606:2800:220:1:248:1893:25c8:1946]/h', { policy: STRICT, resolver })).ok).toBe(true);
  });

  it('refuses http outside development, and non-URLs', async () => {
    await refused('http://hooks.example.com/h', STRICT, /must use https/);
    await refused('ftp://hooks.example.com/h', OPEN, /must use https/);
    await refused('hooks.example.com/h', STRICT, /absolute URL/);
    await refused('', STRICT, /non-empty/);
    await refused(`https://hooks.example.com/${'a'.repeat(2100)}`, STRICT, /at most 2048/);
    expect((await checkWebhookUrl('http://hooks.example.com/h', { policy: DEV, resolver })).ok).toBe(true);
  });

  it('refuses a user name or password in the URL, without repeating them, under every policy', async () => {
    for (const url of ['https://user:pw@1.1.1.1/x', 'https://user@hooks.example.com/x', 'https://:pw@hooks.example.com/x', 'https://user:@1.1.1.1/x']) {
      for (const policy of [STRICT, OPEN]) {
        await refused(url, policy, /must not contain a user name or password/);
        const r = checkUrlSyntax(url, policy);
        expect(JSON.stringify(r)).not.toMatch(/\bpw\b|user@|user:pw/);
      }
    }
  });

  it('refuses loopback, private, link-local, CGNAT and unspecified IPv4 literals (in every spelling)', async () => {
    for (const host of ['127.0.0.1', '127.5.5.5', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.0.1', '100.64.0.1', '169.254.169.254', '0.0.0.0', '2130706433', '0x7f.0.0.1', '0177.0.0.1', '127.1']) {
      await refused(`https://${host}/h`, STRICT, /points to an? .*address/);
    }
    expect((await checkWebhookUrl('https://172.32.0.1/h', { policy: STRICT, resolver })).ok).toBe(true);
    expect((await checkWebhookUrl('https://100.128.0.1/h', { policy: STRICT, resolver })).ok).toBe(true);
  });

  it('refuses IPv6 loopback, unique-local, link-local and IPv4-mapped private addresses', async () => {
    for (const host of ['[::1]', '[::]', '[fc00::1]', '[fd12:3456::1]', '[fe80::1]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[::ffff:10.0.0.1]', '[::ffff:169.254.169.254]', '[64:ff9b::a00:1]', '[2002:c0a8:101::1]', '[ff02::1]']) {
      await refused(`https://${host}/h`, STRICT, /points to an? .*address/);
    }
    expect((await checkWebhookUrl('https://[::ffff:93.184.216.34]/h', { policy: STRICT, resolver })).ok).toBe(true);
  });

  it('refuses host names that resolve to a private address (any of them)', async () => {
    await refused('https://internal.example.com/h', STRICT, /resolves to a private address \(internal\.example\.com -> 10\.1\.2\.3\)/);
    await refused('https://mixed.example.com/h', STRICT, /resolves to a private address/);
    await refused('https://v6private.example.com/h', STRICT, /unique local/);
    await refused('https://mapped.example.com/h', STRICT, /loopback/);
    await refused('https://nowhere.example.com/h', STRICT, /could not be resolved \(nowhere\.example\.com: ENOTFOUND\)/);
  });

  it('refuses localhost and single-label or local-only names without asking DNS', async () => {
    const spy = fakeDns({});
    for (const url of ['https://localhost/h', 'https://api.localhost/h', 'https://intranet/h', 'https://printer.local/h', 'https://db.internal/h']) {
      const r = await checkWebhookUrl(url, { policy: STRICT, resolver: spy });
      expect(r.ok).toBe(false);
    }
    expect(spy.calls).toEqual([]);
  });

  it('allows private and loopback targets (and http) with PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS=1, without DNS', async () => {
    const policy = policyFromEnv({ PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS: '1' });
    expect(policy).toEqual({ allowHttp: true, allowPrivate: true });
    const spy = fakeDns({});
    for (const url of ['http://127.0.0.1:4010/h', 'https://[::1]/h', 'http://localhost:3000/h', 'https://internal.example.com/h', 'http://10.0.0.5/h']) {
      expect((await checkWebhookUrl(url, { policy, resolver: spy })).ok).toBe(true);
    }
    expect(spy.calls).toEqual([]);
  });

  it('derives the policy from the environment', () => {
    expect(policyFromEnv({})).toEqual({ allowHttp: false, allowPrivate: false });
    expect(policyFromEnv({ NODE_ENV: 'development' })).toEqual({ allowHttp: true, allowPrivate: false });
    expect(policyFromEnv({ NODE_ENV: 'production', PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS: '0' })).toEqual({ allowHttp: false, allowPrivate: false });
    expect(policyFromEnv({ PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS: 'true' }).allowPrivate).toBe(true);
  });

  it('classifies addresses', () => {
    expect(classifyAddress('8.8.8.8')).toBeUndefined();
    expect(classifyAddress('2001:4860:4860::8888')).toBeUndefined();
    expect(classifyAddress('127.0.0.1')).toBe('a loopback address');
    expect(classifyAddress('::1')).toBe('a loopback address');
    expect(classifyAddress('::ffff:192.168.1.1')).toBe('a private address');
    expect(classifyAddress('fe80::1%eth0')).toBe('a link-local address');
    expect(classifyAddress('::127.0.0.1')).toMatch(/reserved/);
    expect(classifyAddress('2001:db8::1')).toMatch(/documentation/);
    expect(classifyAddress('not-an-ip')).toBe('not an IP address');
    expect(isPrivateAddress('100.127.255.255')).toBe(true);
    expect(isPrivateAddress('100.128.0.0')).toBe(false);
  });

  it('re-checks the address actually used (DNS rebinding)', async () => {
    expect(checkResolvedAddress('93.184.216.34', STRICT)).toEqual({ ok: true });
    expect(checkResolvedAddress('127.0.0.1', STRICT, 'rebind.example.com')).toMatchObject({ ok: false, message: expect.stringMatching(/rebind\.example\.com -> 127\.0\.0\.1/) });
    expect(checkResolvedAddress('127.0.0.1', OPEN)).toEqual({ ok: true });

    // First answer public (subscription accepted), then the name is re-pointed at loopback.
    let answer = '93.184.216.34';
    const flipping: Resolver = async () => [{ address: answer, family: 4 }];
    expect((await checkWebhookUrl('https://rebind.example.com/h', { policy: STRICT, resolver: flipping })).ok).toBe(true);
    answer = '127.0.0.1';
    const lookup = guardedLookup(STRICT, flipping);
    const err = await new Promise<Error | null>((resolve) => lookup('rebind.example.com', { all: true }, (e) => resolve(e)));
    expect(err?.message).toMatch(/loopback/);
    expect((err as { code?: string }).code).toBe('EWEBHOOKPOLICY');
    answer = '93.184.216.34';
    const single = await new Promise<[Error | null, unknown, unknown]>((resolve) => lookup('rebind.example.com', { family: 0 }, (e, a, f) => resolve([e, a, f])));
    expect(single).toEqual([null, '93.184.216.34', 4]);
    const all = await new Promise<unknown>((resolve) => lookup('rebind.example.com', { all: true }, (_e, a) => resolve(a)));
    expect(all).toEqual([{ address: '93.184.216.34', family: 4 }] satisfies dns.LookupAddress[]);
  });

  it('checks syntax without DNS', () => {
    expect(checkUrlSyntax('https://hooks.example.com/h', STRICT)).toMatchObject({ ok: true, addresses: [] });
    expect(checkUrlSyntax('https://hooks.example.com/h#frag', STRICT).ok).toBe(false);
  });
});
