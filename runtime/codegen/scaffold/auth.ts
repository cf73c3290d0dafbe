// securitySchemes -> the manifest's auth block and credential_schema. The operation's first security
// requirement the manifest can express is used (several schemes in one requirement, e.g. Plaid's two
// API-key headers, become one api_key block with a headers map).
import type { AnyObj } from './schema-tools.ts';
import { resolve, snake } from './schema-tools.ts';
import type { SpecOperation } from './operations.ts';

export interface ScaffoldAuth {
  auth: AnyObj;
  credentials: AnyObj;
  /** Header and query names the auth block sends (left out of the capability's own parameters). */
  headers: string[];
  query: string[];
  /** A YAML comment for the auth block. */
  note: string;
}

const secret = (title: string) => ({ type: 'string', sensitive: true, required: true, title });
const plain = (title: string) => ({ type: 'string', sensitive: false, required: true, title });

function absolute(url: unknown, base: string): string | undefined {
  if (typeof url !== 'string' || !url) return undefined;
  try {
    return new URL(url, base).toString();
  } catch {
    return undefined;
  }
}

/** A token URL under the base URL as a path, so that it follows `environments` (PayPal's sandbox and live). */
function underBase(url: string | undefined, base: string): string | undefined {
  return url?.startsWith(`${base}/`) ? url.slice(base.length) : url;
}

function fromScheme(name: string, s: AnyObj, scopes: string[], base: string): ScaffoldAuth | undefined {
  const type = String(s.type ?? '').toLowerCase();
  if (type === 'http' && String(s.scheme).toLowerCase() === 'basic') {
    return { auth: { type: 'basic', username: '{{credentials.username}}', password: '{{credentials.password}}' }, credentials: { username: plain('Username'), password: secret('Password') }, headers: [], query: [], note: `from security scheme "${name}" (HTTP Basic)` };
  }
  if (type === 'http' && String(s.scheme).toLowerCase() === 'bearer') {
    return { auth: { type: 'bearer', token: '{{credentials.api_key}}' }, credentials: { api_key: secret('API key (bearer token)') }, headers: ['Authorization'], query: [], note: `from security scheme "${name}" (HTTP Bearer)` };
  }
  if (type === 'apikey' && (s.in === 'header' || s.in === 'query')) {
    const field = snake(String(s.name));
    const auth = { type: 'api_key', in: s.in, name: String(s.name), value: `{{credentials.${field}}}` };
    return { auth, credentials: { [field]: secret(String(s.name)) }, headers: s.in === 'header' ? [String(s.name)] : [], query: s.in === 'query' ? [String(s.name)] : [], note: `from security scheme "${name}" (API key in ${s.in} ${s.name})` };
  }
  if (type === 'oauth2') {
    const flows = (s.flows ?? {}) as AnyObj;
    const code = flows.authorizationCode as AnyObj | undefined;
    const client = flows.clientCredentials as AnyObj | undefined;
    const pickScopes = (flow: AnyObj) => (scopes.length ? scopes : Object.keys(flow.scopes ?? {}).slice(0, 1));
    if (code && absolute(code.authorizationUrl, base) && absolute(code.tokenUrl, base)) {
      const auth: AnyObj = { type: 'oauth2_authorization_code', authorization_url: absolute(code.authorizationUrl, base), token_url: underBase(absolute(code.tokenUrl, base), base), client_id: '{{app.client_id}}', client_secret: '{{app.client_secret}}' };
      const sc = pickScopes(code);
      if (sc.length) auth.scopes = sc;
      return { auth, credentials: {}, headers: ['Authorization'], query: [], note: `from security scheme "${name}" (OAuth 2.0 authorization code); TODO: check the scopes` };
    }
    if (client && absolute(client.tokenUrl, base)) {
      const auth: AnyObj = { type: 'oauth2_client_credentials', token_url: underBase(absolute(client.tokenUrl, base), base), client_id: '{{credentials.client_id}}', client_secret: '{{credentials.client_secret}}' };
      const sc = pickScopes(client).filter((x) => scopes.includes(x));
      if (sc.length) auth.scopes = sc;
      return { auth, credentials: { client_id: plain('Client ID'), client_secret: secret('Client secret') }, headers: ['Authorization'], query: [], note: `from security scheme "${name}" (OAuth 2.0 client credentials)` };
    }
  }
  return undefined;
}

/** Several API-key schemes required together: one api_key block sending each. */
function combine(parts: ScaffoldAuth[]): ScaffoldAuth | undefined {
  if (!parts.every((p) => p.auth.type === 'api_key')) return undefined;
  const headers: AnyObj = {};
  const query: AnyObj = {};
  for (const p of parts) (p.auth.in === 'query' ? query : headers)[p.auth.name] = p.auth.value;
  const auth: AnyObj = { type: 'api_key' };
  if (Object.keys(headers).length) auth.headers = headers;
  if (Object.keys(query).length) auth.query = query;
  return { auth, credentials: Object.assign({}, ...parts.map((p) => p.credentials)), headers: Object.keys(headers), query: Object.keys(query), note: parts.map((p) => p.note).join('; ') };
}

/** The auth of the first operation's first expressible security requirement; `none` (with a TODO) when there is none. */
export function scaffoldAuth(doc: AnyObj, ops: SpecOperation[], base: string): ScaffoldAuth {
  const schemes = (doc.components?.securitySchemes ?? {}) as AnyObj;
  const requirements = [...ops.flatMap((o) => (o.op.security ?? doc.security ?? []) as AnyObj[])];
  for (const req of requirements) {
    const names = Object.keys(req ?? {});
    if (!names.length) continue;
    const parts = names.map((n) => (schemes[n] ? fromScheme(n, resolve(doc, schemes[n]), (req[n] as string[]) ?? [], base) : undefined));
    if (parts.some((p) => !p)) continue;
    const got = parts.length === 1 ? parts[0] : combine(parts as ScaffoldAuth[]);
    if (got) return got;
  }
  // No requirement: a single scheme the document declares is still the likely one.
  for (const [n, s] of Object.entries<AnyObj>(schemes)) {
    const got = fromScheme(n, resolve(doc, s), [], base);
    if (got) return { ...got, note: `${got.note}; the operation names no security requirement: TODO check` };
  }
  return { auth: { type: 'none' }, credentials: {}, headers: [], query: [], note: 'TODO: the spec declares no security scheme this scaffold can express; set auth and credential_schema by hand' };
}
