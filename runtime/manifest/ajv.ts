// One Ajv instance (draft 2020-12) shared by manifest, capability and credential validation.
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats ships CommonJS; under NodeNext its default import is the module object.
const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;

export const E164 = /^\+[1-9][0-9]{1,14}$/;

/** `verbose` adds each failing keyword's schema to its error (the manifest loader suggests known keys from it). */
export function createAjv(opts: { verbose?: boolean } = {}): Ajv2020 {
  // The manifest schema decides which formats and keywords a manifest may use (its `format` enum),
  // and reports others as problems of the file; Ajv's own warnings ("unknown format ... ignored")
  // would only repeat that on stderr, so they are silenced. Errors still go to stderr.
  const logger = { log() {}, warn() {}, error: (...args: unknown[]) => console.error(...args) };
  const ajv = new Ajv2020({ allErrors: true, strict: false, allowUnionTypes: true, useDefaults: false, verbose: opts.verbose ?? false, logger });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  ajv.addFormat('e164', E164);
  ajv.addKeyword({ keyword: 'sensitive', schemaType: 'boolean' });
  return ajv;
}

export const ajv = createAjv();

export type { ErrorObject, ValidateFunction };

/** Ajv errors as `{ field: [messages] }`, the shape of the API's 422 `errors`. */
export function fieldErrors(errors: ErrorObject[] | null | undefined, root = ''): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of errors ?? []) {
    if (e.keyword === 'if') continue;
    let field = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
    if (e.keyword === 'required') field = [field, (e.params as { missingProperty: string }).missingProperty].filter(Boolean).join('.');
    if (e.keyword === 'additionalProperties') field = [field, (e.params as { additionalProperty: string }).additionalProperty].filter(Boolean).join('.');
    const key = [root, field].filter(Boolean).join('.') || root || '(root)';
    const msg = e.keyword === 'required' ? 'is required' : e.keyword === 'additionalProperties' ? 'is not allowed' : e.message ?? 'is invalid';
    (out[key] ??= []).includes(msg) || out[key].push(msg);
  }
  return out;
}
