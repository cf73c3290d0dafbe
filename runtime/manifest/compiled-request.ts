// A request of a capability, verify or stream, its templates and expressions compiled once (connector.ts).
import type { BodyFormat, HttpMethod } from './types.ts';
import type { CompiledTemplate } from '../lang/templates.ts';
import type { CompiledExpression } from '../lang/expressions.ts';

export interface CompiledRequest {
  method: HttpMethod;
  path: CompiledTemplate;
  query: Array<[string, CompiledTemplate]>;
  headers: Array<[string, CompiledTemplate]>;
  bodyFormat: BodyFormat;
  formArrays: 'indexed' | 'brackets' | 'repeat';
  /** json, form, multipart: a JSONata expression over {input, credentials, integration}. */
  bodyExpression?: CompiledExpression;
  /** xml, text: a Handlebars template. */
  bodyTemplate?: CompiledTemplate;
}
