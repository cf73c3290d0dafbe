// Zoho CRM's official spec (../shared/provider-specs/zoho-crm/, zoho/crm-oas v8.0) is twelve files
// that reference each other by absolute raw.githubusercontent.com URLs, and several files define
// components of the same name (record.json and notes.json both have Body_Wrapper). The contract
// server reads one document (plus merged fragments, first name wins), so this module bundles a copy
// at test time: every component of file F becomes `F__Name` in one document, every $ref (local or
// cross-file) is rewritten to it, and the paths of record.json, notes.json and users.json are kept.
// The spec files themselves are never changed (provider-specs README). Fix-ups on the copy, each
// with its reason:
// - security scheme `iam-oauth2-schema` (oauth2, which the contract server judges as Bearer) becomes
//   `http` with scheme `Zoho-oauthtoken`: Zoho's header is `Authorization: Zoho-oauthtoken <token>`
//   (https://www.zoho.com/crm/developer/docs/api/v8/oauth-overview.html; README quirk);
// - notes.json's `Note` (the request item of Create Notes) lists every response field as required
//   (Owner, Created_Time, $attachments, …), which no create request can send; Zoho's Create Notes page
//   (https://www.zoho.com/crm/developer/docs/api/v8/create-notes.html) requires only Note_Content and
//   Parent_Id, so the copy requires those two; and its Parent_Id.module (Minified_Module) requires the
//   module's numeric `id` besides `api_name`, which a caller naming the parent module ("Contacts",
//   "Deals") cannot know without a metadata call: the copy requires only `api_name` there. This is a
//   relaxation of the published schema, made only for Parent_Id.module of Create Notes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

type AnyObj = Record<string, any>; // spec documents are untyped JSON

const REMOTE = /^https:\/\/raw\.githubusercontent\.com\/Zohocorp-Pvt-Ltd\/crm-oas\/refs\/heads\/main\/v8\.0\/([a-z_]+)\.json/;
const PATH_FILES = ['record', 'notes', 'users'];

/** The bundled document (an object), built from the files in `dir`. */
export function bundleZohoSpec(dir: string): AnyObj {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, ''));
  const docs = new Map(files.map((f) => [f, JSON.parse(fs.readFileSync(path.join(dir, `${f}.json`), 'utf8')) as AnyObj]));
  const rename = (file: string, ref: string): string => {
    const remote = REMOTE.exec(ref);
    const owner = remote ? remote[1]! : file;
    const local = remote ? ref.slice(remote[0].length) : ref;
    const m = /^#\/components\/([A-Za-z]+)\/(.+)$/.exec(local);
    if (!m) throw new Error(`zoho-crm ${file}.json: unexpected $ref ${ref}`);
    if (!docs.has(owner)) throw new Error(`zoho-crm ${file}.json: $ref to a file that is not in ${dir}: ${ref}`);
    return `#/components/${m[1]}/${owner}__${m[2]}`;
  };
  const rewrite = (node: unknown, file: string): unknown => {
    if (Array.isArray(node)) return node.map((v) => rewrite(v, file));
    if (!node || typeof node !== 'object') return node;
    const out: AnyObj = {};
    for (const [k, v] of Object.entries(node as AnyObj)) out[k] = k === '$ref' && typeof v === 'string' ? rename(file, v) : rewrite(v, file);
    return out;
  };
  const bundle: AnyObj = {
    openapi: '3.0.0',
    info: { title: 'Zoho CRM v8 (record, notes, users; bundled copy of zoho/crm-oas for contract tests)', version: '8.0' },
    servers: docs.get('record')!.servers,
    paths: {},
    components: {},
  };
  for (const [file, doc] of docs) {
    for (const [section, entries] of Object.entries<AnyObj>(doc.components ?? {})) {
      if (section === 'securitySchemes') continue;
      const target = (bundle.components[section] ??= {});
      for (const [name, value] of Object.entries(entries)) target[`${file}__${name}`] = rewrite(value, file);
    }
    if (PATH_FILES.includes(file)) {
      for (const [p, item] of Object.entries<AnyObj>(doc.paths ?? {})) {
        const copy = rewrite(item, file) as AnyObj;
        // Each file's top-level security requirement applies to its own operations only.
        for (const op of Object.values<AnyObj>(copy)) if (op && typeof op === 'object' && op.operationId && !op.security && doc.security) op.security = structuredClone(doc.security);
        bundle.paths[p] = copy;
      }
    }
  }
  bundle.components.securitySchemes = { 'iam-oauth2-schema': { type: 'http', scheme: 'Zoho-oauthtoken', description: 'Authorization: Zoho-oauthtoken <access token> (fix-up of the oauth2 scheme)' } };
  const schemas = bundle.components.schemas as AnyObj;
  schemas['notes__Note'].required = ['Note_Content', 'Parent_Id'];
  schemas['notes__Parent_Id'].properties.module = { ...structuredClone(schemas['modules__Minified_Module']), required: ['api_name'] };
  return bundle;
}

const written = new Map<string, string>();

/** Writes the bundle into the temp directory once per process and returns its path (via a rename, so parallel test workers never read half a file). */
export function zohoSpecFile(dir: string): string {
  const done = written.get(dir);
  if (done) return done;
  const file = path.join(os.tmpdir(), 'plugboard-zoho-crm-v8-bundle.json');
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  fs.writeFileSync(tmp, JSON.stringify(bundleZohoSpec(dir)));
  fs.renameSync(tmp, file);
  written.set(dir, file);
  return file;
}
