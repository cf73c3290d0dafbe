// Judges a request's credentials by the operation's security requirement (OpenAPI semantics:
// alternatives in the list are OR, the schemes inside one requirement are AND).
import type { AnyObj } from './spec-document.ts';

type Headers = Record<string, string | string[] | undefined>;

function checkScheme(scheme: AnyObj | undefined, name: string, headers: Headers, query: Record<string, unknown>): string | undefined {
  if (!scheme) return `security scheme "${name}" is not defined in the spec`;
  const header = (h: string) => {
    const v = headers[h.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  };
  const authorization = header('authorization') ?? '';
  const got = authorization ? ` (got "${authorization.split(' ')[0]} …")` : ' (no Authorization header)';
  const bearer = () => (/^Bearer\s+\S+/i.test(authorization) ? undefined : `${name}: needs "Authorization: Bearer <token>"${got}`);
  switch (scheme.type) {
    case 'http': {
      const s = String(scheme.scheme ?? '').toLowerCase();
      if (s === 'basic') {
        const m = /^Basic\s+(\S+)$/i.exec(authorization);
        if (!m) return `${name}: needs "Authorization: Basic <base64(user:password)>"${got}`;
        const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
        if (!decoded.includes(':') || decoded.startsWith(':')) return `${name}: Basic credentials must decode to "user:password" with a non-empty user`;
        return undefined;
      }
      if (s === 'bearer') return bearer();
      return new RegExp(`^${s}\\s+\\S+`, 'i').test(authorization) ? undefined : `${name}: needs "Authorization: ${scheme.scheme} …"`;
    }
    case 'oauth2':
    case 'openIdConnect':
      return bearer();
    case 'apiKey': {
      const key = String(scheme.name);
      if (scheme.in === 'header') return header(key) ? undefined : `${name}: needs header "${key}"`;
      if (scheme.in === 'query') return query[key] !== undefined && query[key] !== '' ? undefined : `${name}: needs query parameter "${key}"`;
      if (scheme.in === 'cookie') return new RegExp(`(^|;\\s*)${key}=`).test(header('cookie') ?? '') ? undefined : `${name}: needs cookie "${key}"`;
      return `${name}: unsupported apiKey location "${scheme.in}"`;
    }
    default:
      return `${name}: unsupported security scheme type "${scheme.type}"`;
  }
}

/** Undefined when one alternative is met, else what is missing. */
export function checkSecurity(definition: AnyObj, op: AnyObj, headers: Headers, query: Record<string, unknown>): string | undefined {
  const requirements = (op.security ?? definition.security ?? []) as AnyObj[];
  if (!requirements.length) return undefined;
  const schemes = (definition.components?.securitySchemes ?? {}) as AnyObj;
  const failed: string[] = [];
  for (const requirement of requirements) {
    const names = Object.keys(requirement);
    if (!names.length) return undefined; // {} = anonymous access allowed
    const problems = names.map((n) => checkScheme(schemes[n], n, headers, query)).filter((p): p is string => !!p);
    if (!problems.length) return undefined;
    failed.push(problems.join(' AND '));
  }
  return failed.length === 1 ? failed[0] : `no security requirement met: ${failed.map((f) => `(${f})`).join(' OR ')}`;
}
