// A provider's manifest-style credential_schema ({field: {type, sensitive, required, title,
// pattern, format, enum, default, description}}, as GET /providers returns it) as the JSON Schema
// and uiSchema the generated form renders. Sensitive fields are password inputs and are never
// pre-filled: when rotating, a secret the integration has stored (its credentials_set) is shown as
// "stored" and left blank keeps it (the API's PATCH keeps the fields it is not given). Refusals are
// worded by the API's own credential messages (runtime/manifest/credential-messages.ts).
import { fieldErrorsFrom as sharedFieldErrors } from './api/field-errors.ts';
import { credentialMessage } from '../../runtime/manifest/credential-messages.ts';

export interface CredentialField {
  type: string;
  sensitive: boolean;
  required: boolean;
  title?: string;
  description?: string;
  pattern?: string;
  format?: string;
  enum?: Array<string | number | boolean>;
  default?: string | number | boolean;
}

export type Mode = 'create' | 'rotate';

export interface CredentialForm {
  schema: Record<string, unknown>;
  uiSchema: Record<string, Record<string, unknown>>;
  formData: Record<string, unknown>;
}

/**
 * `stored`: the names of the fields the integration holds a value for (its credentials_set); without
 * it, the required secrets (no integration is stored without them).
 */
export function credentialForm(fields: Record<string, CredentialField>, mode: Mode, current: Record<string, unknown> = {}, stored?: readonly string[]): CredentialForm {
  const properties: Record<string, Record<string, unknown>> = {};
  const required: string[] = [];
  const uiSchema: CredentialForm['uiSchema'] = {};
  const formData: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(fields)) {
    const p: Record<string, unknown> = { type: f.type, title: f.title ?? name };
    for (const k of ['description', 'pattern', 'format', 'enum'] as const) if (f[k] !== undefined) p[k] = f[k];
    if (f.default !== undefined && !f.sensitive) p['default'] = f.default;
    properties[name] = p;
    const ui: Record<string, unknown> = {};
    const isStored = mode === 'rotate' && f.sensitive && (stored ? stored.includes(name) : f.required);
    if (f.sensitive) {
      ui['ui:widget'] = 'password';
      ui['ui:autocomplete'] = 'new-password';
      if (isStored) {
        ui['ui:placeholder'] = 'stored';
        ui['ui:help'] = 'Stored (encrypted, never shown). Leave blank to keep it, or type a new value to replace it.';
      } else if (mode === 'rotate') {
        ui['ui:help'] = 'Not set. A value typed here is stored encrypted and never shown again.';
      } else {
        ui['ui:help'] = 'Stored encrypted; it is never shown again.';
      }
    } else {
      ui['ui:autocomplete'] = 'off';
      if (mode === 'rotate' && current[name] !== undefined && current[name] !== null) formData[name] = current[name];
    }
    uiSchema[name] = ui;
    // A stored secret need not be typed again when rotating the others.
    if (f.required && !isStored) required.push(name);
  }
  return { schema: { type: 'object', properties, required }, uiSchema, formData };
}

/** What to send: blank fields dropped (when rotating, a blank secret keeps the stored one). */
export function credentialsToSend(formData: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(formData).filter(([, v]) => v !== undefined && v !== null && v !== ''));
}

/** The API's 422 `errors` ({"credentials.account_sid": ["..."]}) as the form's per-field errors. */
export const fieldErrorsFrom = (errors: Record<string, string[]>, fields: string[]): { byField: Record<string, string[]>; other: string[] } => sharedFieldErrors(errors, fields, 'credentials');

/** A validation error as @rjsf/validator-ajv8 reports it: `name` is the JSON Schema keyword, `property` the field (`.account_sid`). */
export interface FormError {
  name?: string;
  property?: string;
  params?: unknown;
  message?: string;
  stack: string;
}

/** The form's errors in the words the API uses for the same refusal (rjsf's transformErrors). */
export function apiWorded<E extends FormError>(errors: E[], fields: Record<string, CredentialField>): E[] {
  return errors.map((e) => {
    const params = (e.params ?? {}) as Record<string, unknown>;
    const name = e.name === 'required' && typeof params['missingProperty'] === 'string' ? params['missingProperty'] : (e.property ?? '').replace(/^\./, '').split('.')[0]!;
    if (!e.name || !(name in fields)) return e;
    const message = credentialMessage({ keyword: e.name, params }, name, fields[name]);
    return { ...e, message, stack: `${fields[name]!.title ?? name} ${message}` };
  });
}
