// PLUGBOARD_TRUST_PROXY: off by default (the socket's address is the client's), a hop count, or the
// proxies' addresses; anything else, and `true` (every client could choose its address), stops start-up.
import { describe, it, expect } from 'vitest';
import { readConfig } from '../../runtime/config/env.ts';

describe('PLUGBOARD_TRUST_PROXY', () => {
  it('is off unless set', () => {
    expect(readConfig({}).trustProxy).toBe(false);
    expect(readConfig({ PLUGBOARD_TRUST_PROXY: 'off' }).trustProxy).toBe(false);
  });

  it('takes a hop count, names Express knows, addresses and CIDR ranges', () => {
    expect(readConfig({ PLUGBOARD_TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(readConfig({ PLUGBOARD_TRUST_PROXY: 'loopback' }).trustProxy).toEqual(['loopback']);
    expect(readConfig({ PLUGBOARD_TRUST_PROXY: 'loopback, 10.0.0.0/8, 192.168.1.5, fd00::/8, uniquelocal' }).trustProxy).toEqual(['loopback', '10.0.0.0/8', '192.168.1.5', 'fd00::/8', 'uniquelocal']);
  });

  it('refuses true and anything that is not an address', () => {
    expect(() => readConfig({ PLUGBOARD_TRUST_PROXY: 'true' })).toThrow(/PLUGBOARD_TRUST_PROXY.*any client could choose its address/);
    for (const bad of ['10.0.0.0/33', 'proxy.example.com', '1.2.3', 'loopback;10.0.0.1', '::1/129', '-1']) {
      expect(() => readConfig({ PLUGBOARD_TRUST_PROXY: bad }), bad).toThrow(/PLUGBOARD_TRUST_PROXY/);
    }
  });
});
