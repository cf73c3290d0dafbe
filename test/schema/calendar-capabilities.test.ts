// Calendar capabilities (issue 9, item 5): create_event, cancel_event and get_availability carry their
// own examples and anti-examples; every example must pass the capability schema the engine uses and
// every anti-example must fail it (input or output, whichever it gives).
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { loadCapabilitySchemas } from '../../runtime/manifest/capability-schemas.ts';
import { CAPABILITY_SCHEMAS_DIR } from '../../runtime/config/paths.ts';

interface Sample { name?: string; why?: string; input?: unknown; output?: unknown }

const CALENDAR = ['create_event', 'cancel_event', 'get_availability', 'list_events'];

function samples(name: string): { examples: Sample[]; anti: Sample[] } {
  const raw = JSON.parse(fs.readFileSync(path.join(CAPABILITY_SCHEMAS_DIR, `${name}.json`), 'utf8')) as { examples?: Sample[]; anti_examples?: Sample[] };
  return { examples: raw.examples ?? [], anti: raw.anti_examples ?? [] };
}

describe('calendar capability schemas', () => {
  const schemas = loadCapabilitySchemas();
  for (const name of CALENDAR) {
    describe(name, () => {
      const { examples, anti } = samples(name);
      const cap = schemas.get(name)!;
      it('is loaded with examples and anti-examples', () => {
        expect(cap).toBeDefined();
        expect(examples.length).toBeGreaterThan(0);
        expect(anti.length).toBeGreaterThan(0);
      });
      for (const ex of examples) {
        it(`accepts: ${ex.name}`, () => {
          if (ex.input !== undefined) expect(cap.validateInput(ex.input), JSON.stringify(cap.validateInput.errors)).toBe(true);
          if (ex.output !== undefined) expect(cap.validateOutput(ex.output), JSON.stringify(cap.validateOutput.errors)).toBe(true);
        });
      }
      for (const ex of anti) {
        it(`refuses: ${ex.why}`, () => {
          expect(ex.input !== undefined || ex.output !== undefined).toBe(true);
          if (ex.input !== undefined) expect(cap.validateInput(ex.input)).toBe(false);
          if (ex.output !== undefined) expect(cap.validateOutput(ex.output)).toBe(false);
        });
      }
    });
  }

  it('takes IANA zone names, including three-part and Etc ones, and nothing else', () => {
    const v = schemas.get('get_availability')!.validateInput;
    const at = (time_zone: string) => v({ start: '2026-12-03T08:00:00Z', end: '2026-12-03T18:00:00Z', time_zone });
    for (const tz of ['UTC', 'Europe/Berlin', 'America/Argentina/Buenos_Aires', 'America/Port-au-Prince', 'Etc/GMT+5', 'Etc/GMT-14', 'America/North_Dakota/New_Salem', 'Asia/Ho_Chi_Minh']) expect(at(tz), tz).toBe(true);
    for (const tz of ['EST', 'GMT+1', 'Pacific Standard Time', '+05:00', 'europe/berlin', 'Europe/Berlin ', 'Etc/GMT+15', '']) expect(at(tz), tz).toBe(false);
  });
});
