import fs from 'node:fs';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { MODEL_NAMES, MODEL_SCHEMAS_DIR, models, modelErrors, isModelName } from '../../runtime/manifest/models.ts';
import { generate, diffGenerated } from '../../runtime/codegen/generate.ts';
import { loadConnectorDir } from '../../runtime/manifest/registry.ts';
import { loadCapabilitySchemas } from '../../runtime/manifest/capability-schemas.ts';
import { DEFAULT_CONNECTORS_DIR, GENERATED_DIR } from '../../runtime/config/paths.ts';

type Rec = Record<string, unknown>;
const example = (name: string): Rec => structuredClone((models().get(name)!.schema.examples as Rec[])[0]!);

describe('model schemas', () => {
  it('are exactly the shipped models, each a strict draft 2020-12 object schema requiring a string id', () => {
    const files = fs.readdirSync(MODEL_SCHEMAS_DIR).map((f) => f.replace(/\.json$/, '')).sort();
    expect(files).toEqual([...MODEL_NAMES].sort());
    expect([...models().keys()]).toEqual(files);
    expect(models()).toBe(models());
    const strict = new Ajv2020({ strict: true, strictTypes: false, allowUnionTypes: true, validateFormats: false, keywords: ['x-schema-version'] });
    for (const name of MODEL_NAMES) {
      const doc = JSON.parse(fs.readFileSync(path.join(MODEL_SCHEMAS_DIR, `${name}.json`), 'utf8')) as Rec;
      expect(Object.keys(doc).slice(0, 4)).toEqual(['$schema', '$id', 'title', 'description']);
      expect(doc.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(doc.$id).toBe(`https://plugboard.dev/schemas/models/${name}.v1.json`);
      expect(doc.title).toBe(name);
      expect(String(doc.description).length).toBeGreaterThan(20);
      expect(doc.additionalProperties).toBe(false);
      const props = doc.properties as Record<string, Rec>;
      expect(doc.required).toContain('id');
      expect(props.id).toMatchObject({ type: 'string' });
      for (const f of ['created_at', 'updated_at']) expect(props[f]).toMatchObject({ format: 'date-time' });
      expect(doc.required).not.toContain('updated_at');
      // custom_fields is the one open object
      expect(props.custom_fields).toMatchObject({ type: 'object', additionalProperties: true });
      expect(() => strict.compile(doc)).not.toThrow();
    }
  });

  it('accept each model\'s example, and a record with only its required fields', () => {
    const minimal: Record<string, Rec> = { payment: { id: 'ch_1', amount: 0, currency: 'eur', status: 'pending' }, message: { id: 'SM1', channel: 'sms' } };
    for (const name of MODEL_NAMES) {
      expect(modelErrors(name, example(name)), name).toEqual([]);
      expect(modelErrors(name, minimal[name] ?? { id: 'x1' }), name).toEqual([]);
      expect(modelErrors(name, {}), name).toContain('id: is required');
      expect(modelErrors(name, { ...example(name), id: 42 }), name).toContain('id: must be string');
      expect(modelErrors(name, { ...example(name), id: '' }).join(), name).toMatch(/^id: /);
      expect(modelErrors(name, { ...example(name), updated_at: 'yesterday' }), name).toEqual(['updated_at: must match format "date-time"']);
      expect(modelErrors(name, { ...example(name), custom_fields: { anything: [1, { x: 2 }] } }), name).toEqual([]);
      expect(modelErrors(name, { ...example(name), extra: 1 }), name).toEqual(['extra: is not allowed']);
      expect(modelErrors(name, null), name).toEqual(['(root): must be object']);
    }
  });

  it('take null for optional fields (providers send null for empty ones)', () => {
    expect(modelErrors('contact', { id: '1', email: null, phone: null, company_id: null, updated_at: null })).toEqual([]);
    expect(modelErrors('calendar_event', { id: 'e', start: null, attendees: null, organizer: null, status: null })).toEqual([]);
  });

  it('reject typical wrong values, naming the field', () => {
    expect(modelErrors('contact', { id: '1', email: 'not-an-email', first_name: 7 })).toEqual(['first_name: must be string or null', 'email: must match format "email"']);
    expect(modelErrors('contact', { id: '1', fullname: 'Ana' })).toEqual(['fullname: is not allowed']);
    // phone is free text: CRMs keep numbers in any form
    expect(modelErrors('contact', { id: '1', phone: '(415) 555-0123' })).toEqual([]);
    expect(modelErrors('company', { id: '1', employee_count: -3, address: { town: 'x' } })).toEqual(['employee_count: must be >= 0', 'address.town: is not allowed']);
    expect(modelErrors('deal', { id: '1', amount: 12.5, currency: 'USD', close_date: '2025-04-31T00:00:00Z', status: 'closed' })).toEqual([
      'amount: must be integer or null',
      'currency: must match pattern "^[a-z]{3}$"',
      'status: must be one of "open", "won", "lost", null',
      'close_date: must match format "date"',
    ]);
    expect(modelErrors('note', { id: '1', content: { html: '<p>' } })).toEqual(['content: must be string or null']);
    expect(modelErrors('calendar_event', { ...example('calendar_event'), start: '2026-12-03 10:00', end: 1700000000, status: 'canceled' })).toEqual([
      'start: must match format "date-time" or "date"',
      'end: must be string or null',
      'status: must be one of "confirmed", "tentative", "cancelled", null',
    ]);
    expect(modelErrors('calendar_event', { id: 'e', start: '2026-12-03', end: '2026-12-04', all_day: true })).toEqual([]);
    expect(modelErrors('calendar_event', { id: 'e', start: '2026-12-03T10:00:00' })).toEqual(['start: must match format "date-time" or "date"']);
    expect(modelErrors('calendar_event', { id: 'e', attendees: [{ name: 'Ana' }, { email: 'bo@example.com', response: 'maybe' }] })).toEqual([
      'attendees.0.email: is required',
      'attendees.1.response: must be one of "accepted", "declined", "tentative", "needs_action", null',
    ]);
    expect(modelErrors('invoice', { id: 'in_1', status: 'paid', total: '49.99', lines: [{ amount: 4999, sku: 'x' }] })).toEqual(['total: must be integer or null', 'lines.0.sku: is not allowed']);
    expect(modelErrors('payment', { id: 'pi_1', amount: 4999, currency: 'usd' })).toEqual(['status: is required']);
    expect(modelErrors('payment', { id: 'pi_1', amount: -1, currency: 'usd', status: 'paid', metadata: { n: 1 } })).toEqual([
      'amount: must be >= 0',
      'status: must be one of "pending", "requires_action", "processing", "requires_capture", "succeeded", "failed", "canceled", "refunded"',
      'metadata.n: must be string',
    ]);
    expect(modelErrors('message', { id: 'SM1', channel: 'fax', sent_at: 'Thu, 30 Jul 2015 20:12:31 +0000' })).toEqual([
      'channel: must be one of "sms", "whatsapp", "email", "chat", "voice"',
      'sent_at: must match format "date-time"',
    ]);
  });

  it('know their names, and refuse an unknown one', () => {
    expect(isModelName('calendar_event')).toBe(true);
    expect(isModelName('contacts')).toBe(false);
    expect(() => modelErrors('contacts', { id: '1' })).toThrow(/unknown model "contacts"/);
  });
});

describe('generated model types', () => {
  it('are what `npm run generate` would write, one interface per model', async () => {
    const reg = loadConnectorDir(DEFAULT_CONNECTORS_DIR);
    const files = await generate([...reg.connectors.values()], loadCapabilitySchemas(), models());
    expect(diffGenerated(GENERATED_DIR, files)).toEqual([]);
    const ts = files.get('models.ts')!;
    for (const [name, type] of [['contact', 'Contact'], ['calendar_event', 'CalendarEvent'], ['payment', 'Payment']]) {
      expect(ts).toContain(`export interface ${type} {`);
      expect(ts).toContain(`  ${name}: ${type};`);
    }
    expect(files.get('index.ts')).toContain(`export * from './models.ts';`);
  });
});
