import fs from 'node:fs';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import {
  EVENT_SCHEMAS_DIR,
  listEventTypes,
  getEventType,
  validateEventData,
  matchesPattern,
  matchesAny,
  validateEventPatterns,
} from '../../runtime/webhooks/catalog.ts';

const REQUIRED = [
  'integration.activated', 'integration.error', 'integration.webhook_disabled', 'operation.succeeded', 'operation.failed',
  'payment.completed', 'payment.failed', 'payment.refunded', 'message.delivered', 'message.failed', 'contact.created',
  'contact.updated', 'appointment.created', 'appointment.cancelled', 'sync.completed',
];

describe('event catalog', () => {
  it('has every required event type, each with description, version, schema and sample', () => {
    const types = listEventTypes();
    const names = types.map((t) => t.type);
    for (const r of REQUIRED) expect(names).toContain(r);
    expect(names).toEqual([...names].sort());
    for (const t of types) {
      expect(t.description.length).toBeGreaterThan(10);
      expect(t.schema_version).toBe(1);
      expect(t.schema.type).toBe('object');
      expect(typeof t.sample).toBe('object');
      expect(validateEventData(t.type, t.sample)).toEqual({ ok: true });
    }
  });

  it('stores each file in the documented shape and compiles it as a draft 2020-12 schema in strict mode', () => {
    const strict = new Ajv2020({ strict: true, strictTypes: false, allowUnionTypes: true, validateFormats: false, keywords: ['x-schema-version'] });
    for (const file of fs.readdirSync(EVENT_SCHEMAS_DIR)) {
      const doc = JSON.parse(fs.readFileSync(path.join(EVENT_SCHEMAS_DIR, file), 'utf8'));
      const type = file.replace(/\.json$/, '');
      expect(Object.keys(doc).slice(0, 4)).toEqual(['$schema', '$id', 'title', 'description']);
      expect(doc.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(doc.$id).toBe(`https://plugboard.dev/schemas/events/${type}.v1.json`);
      expect(doc['x-schema-version']).toBe(1);
      expect(Array.isArray(doc.required) && doc.required.length > 0).toBe(true);
      for (const r of doc.required) expect(doc.properties).toHaveProperty(r);
      expect(doc.examples).toHaveLength(1);
      expect(() => strict.compile(doc)).not.toThrow();
    }
  });

  it('validates data and names the failing field under data.', () => {
    const sample = getEventType('payment.completed')!.sample;
    expect(validateEventData('payment.completed', sample)).toEqual({ ok: true });
    const bad = validateEventData('payment.completed', { ...sample, amount: 'ten', currency: 'USD', payment_id: undefined });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.errors['data.amount']).toBeDefined();
      expect(bad.errors['data.currency']).toBeDefined();
      expect(bad.errors['data.payment_id']).toEqual(['is required']);
    }
    const unknown = validateEventData('payment.exploded', {});
    expect(unknown).toMatchObject({ ok: false, errors: { type: ['is not a known event type'] } });
  });

  it('matches subscription patterns with * wildcards', () => {
    expect(matchesPattern('*', 'payment.completed')).toBe(true);
    expect(matchesPattern('payment.*', 'payment.completed')).toBe(true);
    expect(matchesPattern('payment.*', 'payment.refunded')).toBe(true);
    expect(matchesPattern('payment.*', 'message.failed')).toBe(false);
    expect(matchesPattern('*.failed', 'operation.failed')).toBe(true);
    expect(matchesPattern('*.failed', 'payment.failed')).toBe(true);
    expect(matchesPattern('*.failed', 'payment.completed')).toBe(false);
    expect(matchesPattern('payment.completed', 'payment.completed')).toBe(true);
    expect(matchesPattern('payment.completed', 'payment.completedx')).toBe(false);
    expect(matchesPattern('pay*.completed', 'payment.completed')).toBe(true);
    // A wildcard never crosses a dot, and dots in patterns are literal.
    expect(matchesPattern('*', 'a.b')).toBe(true);
    expect(matchesPattern('*.b', 'x.a.b')).toBe(false);
    expect(matchesPattern('payment.complete.', 'payment.completed')).toBe(false);
    expect(matchesAny(['contact.*', '*.failed'], 'message.failed')).toBe(true);
    expect(matchesAny(['contact.*'], 'message.failed')).toBe(false);
  });

  it('validates subscription event lists', () => {
    expect(validateEventPatterns(['*'])).toEqual({});
    expect(validateEventPatterns(['payment.*', '*.failed', 'contact.created'])).toEqual({});
    expect(validateEventPatterns([])).toEqual({ events: ['must be a non-empty array of event types or patterns'] });
    expect(validateEventPatterns(['payment.exploded', 'nope', 'widget.*'])).toEqual({
      'events.0': ['is not a known event type'],
      'events.1': ['must be "*" or <resource>.<action> where either part may use * wildcards'],
      'events.2': ['matches no known event type'],
    });
  });
});
