// One Ajv instance (draft 2020-12) shared by manifest, capability and credential validation.
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { credentialMessage, type CredentialFieldHint } from './credential-messages.ts';

// ajv-formats ships CommonJS; under NodeNext its default import is the module object.
const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;

export const E164 = /^\+[1-9][0-9]{1,14}$/;

/** `verbose` adds each failing keyword's schema to its error (the manifest loader suggests known keys from it). */
export function createAjv(opts: { verbose?: boolean; validateSchema?: boolean } = {}): Ajv2020 {
  // The manifest schema decides which formats and keywords a manifest may use (its `format` enum),
  // and reports others as problems of the file; Ajv's own warnings ("unknown format ... ignored")
  // would only repeat that on stderr, so they are silenced. Errors still go to stderr.
  const logger = { log() {}, warn() {}, error: (...args: unknown[]) => console.error(...args) };
  const ajv = new Ajv2020({ allErrors: true, strict: false, allowUnionTypes: true, useDefaults: false, verbose: opts.verbose ?? false, validateSchema: opts.validateSchema ?? true, logger });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  ajv.addFormat('e164', E164);
  ajv.addKeyword({ keyword: 'sensitive', schemaType: 'boolean' });
  return ajv;
}

export const ajv = createAjv();

/** Compiles the schemas of one connector (see connectorAjv). */
export interface SchemaCompiler {
  compile(schema: object): ValidateFunction;
}

/**
 * An Ajv of one connector for the schemas its manifest brings (a custom capability's input and output,
 * the credentials object), discarded with the connector: what such a schema declares or leaves compiled
 * never reaches the shared instance (POST /manifests/validate compiles a tenant's text). Each schema is
 * checked against the draft 2020-12 meta-schema by the shared instance, which compiles that once.
 */
export function connectorAjv(): SchemaCompiler {
  let own: Ajv2020 | undefined; // created on the first compile: a connector may bring no schema to compile now
  return {
    compile(schema) {
      if (!ajv.validateSchema(schema)) throw new Error(`schema is invalid: ${ajv.errorsText(ajv.errors)}`);
      return (own ??= createAjv({ validateSchema: false })).compile(schema);
    },
  };
}

/**
 * A validator compiled on its first call (compiling costs far more than validating, and a start need
 * not compile what no request uses). Reads like Ajv's: `errors` holds the last call's errors.
 */
export function lazyValidator(compile: () => ValidateFunction): ValidateFunction {
  let compiled: ValidateFunction | undefined;
  const validate = ((data: unknown) => {
    compiled ??= compile();
    const ok = compiled(data);
    validate.errors = compiled.errors;
    return ok;
  }) as ValidateFunction;
  validate.errors = null;
  return validate;
}

export type { ErrorObject, ValidateFunction };

/**
 * Ajv errors as `{ field: [messages] }`, the shape of the API's 422 `errors`. `describe` words an
 * error instead of Ajv (given the field's path below `root`), as credentialErrors does.
 */
export function fieldErrors(errors: ErrorObject[] | null | undefined, root = '', describe?: (e: ErrorObject, field: string) => string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of errors ?? []) {
    if (e.keyword === 'if') continue;
    let field = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
    if (e.keyword === 'required') field = [field, (e.params as { missingProperty: string }).missingProperty].filter(Boolean).join('.');
    if (e.keyword === 'additionalProperties') field = [field, (e.params as { additionalProperty: string }).additionalProperty].filter(Boolean).join('.');
    const key = [root, field].filter(Boolean).join('.') || root || '(root)';
    const msg = describe ? describe(e, field) : e.keyword === 'required' ? 'is required' : e.keyword === 'additionalProperties' ? 'is not allowed' : e.message ?? 'is invalid';
    (out[key] ??= []).includes(msg) || out[key].push(msg);
  }
  return out;
}

/** A credentials object's Ajv errors as the API's 422 `errors` (`credentials.<field>`), in the words the studio's form uses too. */
export function credentialErrors(errors: ErrorObject[] | null | undefined, fields: Record<string, CredentialFieldHint>): Record<string, string[]> {
  return fieldErrors(errors, 'credentials', (e, field) => credentialMessage(e, field, fields[field]));
}
