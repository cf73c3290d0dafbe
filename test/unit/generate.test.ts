import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { loadConnectorDir } from '../../runtime/manifest/registry.ts';
import { loadCapabilitySchemas } from '../../runtime/manifest/capability-schemas.ts';
import { generate, diffGenerated } from '../../runtime/codegen/generate.ts';
import { GENERATED_DIR, PROJECT_ROOT, DEFAULT_CONNECTORS_DIR } from '../../runtime/config/paths.ts';

function typeCheck(programText: string): string[] {
  const dir = fs.mkdtempSync(path.join(PROJECT_ROOT, 'test', '.tmp-tsc-'));
  try {
    const file = path.join(dir, 'app.ts');
    fs.writeFileSync(file, programText);
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      allowImportingTsExtensions: true,
      skipLibCheck: true,
      types: ['node'],
    });
    return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const header = `
import { createAdapters, type TwilioCredentials } from '../../generated/index.ts';
import { engineCaller } from '../../runtime/engine/adapter.ts';
import { Engine } from '../../runtime/engine/engine.ts';
import { loadConnectorDir } from '../../runtime/manifest/registry.ts';
const connectors = loadConnectorDir('connectors').connectors;
const creds: TwilioCredentials = { account_sid: 'AC', auth_token: 't', from_number: '+15005550006' };
const adapters = createAdapters(engineCaller(new Engine(), connectors, () => ({ credentials: { ...creds } })));
`;

describe('generated adapters', () => {
  it('are what `npm run generate` would write (no diff)', async () => {
    const reg = loadConnectorDir(DEFAULT_CONNECTORS_DIR);
    const files = await generate([...reg.connectors.values()], loadCapabilitySchemas());
    expect(diffGenerated(GENERATED_DIR, files)).toEqual([]);
  });

  it('type-check a correct program against the generated code', () => {
    const errors = typeCheck(`${header}
async function main() {
  const sent = await adapters.twilio.send_sms({ to: '+14155550123', body: 'hi' });
  const id: string = sent.message_id;
  const pay = await adapters.stripe.initiate_payment({ amount: 100, currency: 'usd' });
  const s: 'pending' | 'requires_action' | 'processing' | 'succeeded' | 'failed' | 'canceled' = pay.status;
  return [id, s];
}
void main;
`);
    expect(errors).toEqual([]);
  });

  it('reject a wrong input field name at compile time', () => {
    const errors = typeCheck(`${header}
void adapters.twilio.send_sms({ to: '+14155550123', bodyy: 'hi' });
`);
    expect(errors.join('\n')).toMatch(/bodyy/);
  });

  it('reject a capability the connector does not have', () => {
    const errors = typeCheck(`${header}
void adapters.slack.send_sms({ to: '+14155550123', body: 'hi' });
`);
    expect(errors.join('\n')).toMatch(/send_sms/);
  });

  it('type sync records by model, refusing a wrong field or status', () => {
    const ok = typeCheck(`import type { Contact, CalendarEvent, ModelTypes } from '../../generated/index.ts';
const c: Contact = { id: '51', email: 'ada@example.com', phone: null, custom_fields: { lifecyclestage: 'lead' } };
const e: ModelTypes['calendar_event'] = { id: 'e1', start: '2026-12-03', all_day: true, attendees: [{ email: 'a@example.com', response: 'accepted' }] };
const p: ModelTypes['payment'] = { id: 'pi_1', amount: 100, currency: 'usd', status: 'succeeded' };
void [c, e as CalendarEvent, p];
`);
    expect(ok).toEqual([]);
    const bad = typeCheck(`import type { Contact, Payment } from '../../generated/index.ts';
const c: Contact = { id: '51', emial: 'ada@example.com' };
const p: Payment = { id: 'pi_1', amount: 100, currency: 'usd', status: 'paid' };
void [c, p];
`).join('\n');
    expect(bad).toMatch(/emial/);
    expect(bad).toMatch(/"paid"/);
  });

  it('reject a wrong credentials field', () => {
    const errors = typeCheck(`import type { StripeCredentials } from '../../generated/index.ts';
const c: StripeCredentials = { secret_keyy: 'x' };
void c;
`);
    expect(errors.join('\n')).toMatch(/secret_keyy/);
  });
});
