// A provider's manifest-style credential_schema ({field: {type, sensitive, required, title,
// pattern, format, enum, default, description}}, as GET /providers returns it) as the JSON Schema
// and uiSchema the generated form renders. Sensitive fields are password inputs and are never
// pre-filled: when rotating, a stored secret is shown as "stored" and left blank keeps it (the
// API's PATCH keeps the fields it is not given).
import { fieldErrorsFrom as sharedFieldErrors } from './api/field-errors.ts';

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

export function credentialForm(fields: Record<string, CredentialField>, mode: Mode, current: Record<string, unknown> = {}): CredentialForm {
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
    if (f.sensitive) {
      ui['ui:widget'] = 'password';
      ui['ui:autocomplete'] = 'new-password';
      if (mode === 'rotate') {
        ui['ui:placeholder'] = 'stored';
        ui['ui:help'] = 'Stored (encrypted, never shown). Leave blank to keep it, or type a new value to replace it.';
      } else {
        ui['ui:help'] = 'Stored encrypted; it is never shown again.';
      }
    } else {
      ui['ui:autocomplete'] = 'off';
      if (mode === 'rotate' && current[name] !== undefined && current[name] !== null) formData[name] = current[name];
    }
    uiSchema[name] = ui;
    // A stored secret need not be typed again when rotating the others.
    if (f.required && !(mode === 'rotate' && f.sensitive)) required.push(name);
  }
  return { schema: { type: 'object', properties, required }, uiSchema, formData };
}

/** What to send: blank fields dropped (when rotating, a blank secret keeps the stored one). */
export function credentialsToSend(formData: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(formData).filter(([, v]) => v !== undefined && v !== null && v !== ''));
}

/** The API's 422 `errors` ({"credentials.account_sid": ["..."]}) as the form's per-field errors. */
export const fieldErrorsFrom = (errors: Record<string, string[]>, fields: string[]): { byField: Record<string, string[]>; other: string[] } => sharedFieldErrors(errors, fields, 'credentials');
