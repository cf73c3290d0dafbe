import { describe, it, expect } from 'vitest';
import { PlugboardError } from '../../runtime/errors/plugboard-error.ts';
import { Webhook } from 'standardwebhooks';
import {
  generateSecret,
  isValidSecret,
  sign,
  buildHeaders,
  signingSecrets,
  createEnvelope,
  serializeEnvelope,
  signDelivery,
  ROTATION_OVERLAP_MS,
} from '../../runtime/webhooks/signing.ts';
import { getEventType } from '../../runtime/webhooks/catalog.ts';

const now = () => Math.floor(Date.now() / 1000);

function body() {
  const info = getEventType('payment.completed')!;
  return serializeEnvelope(createEnvelope({
    type: info.type,
    id: '01j9zb0c2d4e6f8g0h2j4k6m8n',
    schema_version: info.schema_version,
    occurred_at: new Date('2025-03-14T09:31:02.000Z'),
    tenant_id: '01j9za1b3c5d7e9f1g3h5j7k9m',
    data: info.sample,
  }));
}

describe('outbound signing (verified by the standardwebhooks package)', () => {
  it('generates whsec_ secrets of 32 random bytes', () => {
    const a = generateSecret();
    const b = generateSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
    expect(a).not.toBe(b);
    expect(isValidSecret(a)).toBe(true);
    expect(isValidSecret('whsec_c2hvcnQ=')).toBe(false);
    expect(isValidSecret('sk_live_x')).toBe(false);
    expect(() => generateSecret(8)).toThrow(PlugboardError);
  });

  it('produces headers that Webhook.verify accepts, and the body it returns is the envelope', () => {
    const secret = generateSecret();
    const payload = body();
    const headers = buildHeaders('01j9zb0c2d4e6f8g0h2j4k6m8n', now(), payload, [secret]);
    expect(Object.keys(headers)).toEqual(['webhook-id', 'webhook-timestamp', 'webhook-signature']);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    const verified = new Webhook(secret).verify(payload, { ...headers }) as Record<string, unknown>;
    expect(Object.keys(verified)).toEqual(['type', 'id', 'schema_version', 'occurred_at', 'tenant_id', 'data']);
    expect(verified).toMatchObject({ type: 'payment.completed', schema_version: 1, occurred_at: '2025-03-14T09:31:02.000Z' });
  });

  it('matches the package\'s own signature byte for byte', () => {
    const secret = generateSecret();
    const ts = now();
    expect(sign('msg_1', ts, 'hello', [secret])).toBe(new Webhook(secret).sign('msg_1', new Date(ts * 1000), 'hello'));
    expect(sign('msg_1', ts, Buffer.from('héllo'), [secret])).toBe(new Webhook(secret).sign('msg_1', new Date(ts * 1000), 'héllo'));
  });

  it('signs with both secrets during rotation: either secret verifies, a third does not', () => {
    const oldSecret = generateSecret();
    const newSecret = generateSecret();
    const payload = body();
    const headers = buildHeaders('msg_rotation', now(), payload, [newSecret, oldSecret]);
    const parts = headers['webhook-signature'].split(' ');
    expect(parts).toHaveLength(2);
    for (const p of parts) expect(p.startsWith('v1,')).toBe(true);
    expect(() => new Webhook(oldSecret).verify(payload, { ...headers })).not.toThrow();
    expect(() => new Webhook(newSecret).verify(payload, { ...headers })).not.toThrow();
    expect(() => new Webhook(generateSecret()).verify(payload, { ...headers })).toThrow(/No matching signature/);
  });

  it('is rejected by Webhook.verify when the body, id or timestamp is changed', () => {
    const secret = generateSecret();
    const payload = body();
    const headers = buildHeaders('msg_x', now(), payload, [secret]);
    const wh = new Webhook(secret);
    expect(() => wh.verify(payload.replace('4999', '4998'), { ...headers })).toThrow();
    expect(() => wh.verify(payload, { ...headers, 'webhook-id': 'msg_y' })).toThrow();
    expect(() => wh.verify(payload, { ...headers, 'webhook-timestamp': String(Number(headers['webhook-timestamp']) + 1) })).toThrow();
    const stale = buildHeaders('msg_x', now() - 3600, payload, [secret]);
    expect(() => wh.verify(payload, { ...stale })).toThrow(/too old/);
  });

  it('keeps the previous secret signing only until its overlap ends', () => {
    const rotatedAt = new Date('2025-03-14T00:00:00Z');
    const previous = { secret: 'whsec_old', expires_at: new Date(rotatedAt.getTime() + ROTATION_OVERLAP_MS).toISOString() };
    expect(signingSecrets('whsec_new', previous, new Date('2025-03-14T12:00:00Z'))).toEqual(['whsec_new', 'whsec_old']);
    expect(signingSecrets('whsec_new', previous, new Date('2025-03-15T00:00:01Z'))).toEqual(['whsec_new']);
    expect(signingSecrets('whsec_new', null)).toEqual(['whsec_new']);
  });

  it('signs each attempt with a fresh timestamp but the same id and body', () => {
    const secret = generateSecret();
    const payload = body();
    const a = signDelivery({ id: 'msg_same', body: payload, secrets: [secret], now: new Date(Date.now() - 60_000) });
    const b = signDelivery({ id: 'msg_same', body: payload, secrets: [secret] });
    expect(a.headers['webhook-id']).toBe(b.headers['webhook-id']);
    expect(a.headers['webhook-timestamp']).not.toBe(b.headers['webhook-timestamp']);
    expect(a.headers['content-type']).toBe('application/json');
    for (const s of [a, b]) expect(() => new Webhook(secret).verify(s.body, { ...s.headers })).not.toThrow();
  });

  it('refuses unusable input', () => {
    expect(() => sign('msg 1', now(), 'x', [generateSecret()])).toThrow(/webhook-id/);
    expect(() => sign('msg_1', now(), 'x', [])).toThrow(/secret/);
    expect(() => sign('msg_1', now(), 'x', ['whsec_***'])).toThrow(/base64/);
    expect(() => createEnvelope({ type: 't.x', id: '1', schema_version: 0, occurred_at: new Date(), tenant_id: 't', data: {} })).toThrow(PlugboardError);
  });
});
