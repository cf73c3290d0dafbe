// The operations of a loaded spec and finding the ones `plugboard scaffold --operation` names: by
// operationId (case-insensitive) or "METHOD /path"; an unknown one is an error suggesting close names.
import { PlugboardError } from '../../errors/plugboard-error.ts';
import { closest } from '../../manifest/suggest.ts';
import { HTTP_METHODS, type AnyObj } from '../../testkit/contract/spec-document.ts';
import { resolve, snake } from './schema-tools.ts';

export interface SpecOperation {
  method: string; // upper case
  path: string;
  operationId?: string;
  op: AnyObj;
  /** Path-level and operation-level parameters, resolved (the operation's win by name and place). */
  parameters: AnyObj[];
}

export function listOperations(doc: AnyObj): SpecOperation[] {
  const out: SpecOperation[] = [];
  for (const [path, rawItem] of Object.entries<AnyObj>(doc.paths ?? {})) {
    const item = resolve(doc, rawItem);
    for (const method of HTTP_METHODS) {
      const op = item[method] as AnyObj | undefined;
      if (!op || typeof op !== 'object') continue;
      const params = new Map<string, AnyObj>();
      for (const p of [...(item.parameters ?? []), ...(op.parameters ?? [])]) {
        const r = resolve(doc, p);
        if (r.name && r.in) params.set(`${r.in}:${r.name}`, r);
      }
      out.push({ method: method.toUpperCase(), path, operationId: op.operationId, op, parameters: [...params.values()] });
    }
  }
  return out;
}

const key = (o: SpecOperation) => `${o.method} ${o.path}`;

/** The operation a `--operation` argument names, or a one-line error with close matches. */
export function findOperation(ops: SpecOperation[], wanted: string, specName: string): SpecOperation {
  const w = wanted.trim();
  const byId = ops.find((o) => o.operationId === w) ?? ops.find((o) => o.operationId?.toLowerCase() === w.toLowerCase());
  if (byId) return byId;
  // Slack's chat.postMessage is chat_postMessage in its spec: compare snake_case forms too.
  const bySnake = ops.find((o) => o.operationId && snake(o.operationId) === snake(w));
  if (bySnake) return bySnake;
  const m = /^([A-Za-z]+)\s+(\S+)$/.exec(w);
  if (m) {
    const hit = ops.find((o) => o.method === m[1]!.toUpperCase() && o.path === m[2]);
    if (hit) return hit;
  }
  throw new PlugboardError('validation', `unknown operation "${w}" in ${specName}${suggestions(ops, w)}`);
}

function suggestions(ops: SpecOperation[], wanted: string): string {
  const ids = ops.map((o) => o.operationId).filter((x): x is string => !!x);
  const names = [...ids, ...ops.map(key)];
  const near = closest(wanted, names);
  const needle = wanted.toLowerCase().replace(/^(get|post|put|patch|delete)\s+/, '');
  const containing = names.filter((n) => n.toLowerCase().includes(needle) && n !== near).slice(0, near ? 4 : 5);
  const list = [...(near ? [near] : []), ...containing];
  if (list.length) return ` (did you mean ${list.map((n) => `"${n}"`).join(', ')}?)`;
  return ops.length ? ` (${ops.length} operations, e.g. ${ops.slice(0, 3).map((o) => `"${o.operationId ?? key(o)}"`).join(', ')})` : ' (it has no operations)';
}
