// Providers' specs seldom describe their OAuth2 token endpoint (PayPal's /v1/oauth2/token, …). A
// request to the connector's token path that no spec operation matches is judged by RFC 6749
// instead (§4.4.2 client credentials, §6 refresh, §2.3.1 client authentication) and answered with a
// token, so the capability's own request is judged next.
import type { AnyObj } from './spec-document.ts';
import { mediaType } from './request-body.ts';

export const TOKEN_OPERATION = 'oauth2_token (RFC 6749; not in the spec)';

export interface TokenProblem {
  location: string;
  rule: string;
  message: string;
}

const GRANTS: Record<string, string[]> = {
  client_credentials: [],
  refresh_token: ['refresh_token'],
  authorization_code: ['code'],
};

export function judgeTokenRequest(method: string, contentType: string | undefined, body: unknown, headers: Record<string, string | string[] | undefined>): TokenProblem[] {
  const problems: TokenProblem[] = [];
  const add = (location: string, message: string) => problems.push({ location, rule: 'rfc6749', message });
  if (method !== 'POST') add('route', `a token request is a POST (RFC 6749 §3.2), got ${method}`);
  if (mediaType(contentType) !== 'application/x-www-form-urlencoded') add('content-type', `a token request is application/x-www-form-urlencoded (RFC 6749 §4.4.2), got ${mediaType(contentType) || 'no content-type'}`);
  const form = (body && typeof body === 'object' ? body : {}) as AnyObj;
  const grant = form.grant_type as string | undefined;
  if (!grant) add('request.body.grant_type', 'missing required field "grant_type"');
  else if (!GRANTS[grant]) add('request.body.grant_type', `unsupported grant_type "${grant}" (expected one of ${Object.keys(GRANTS).join(', ')})`);
  else for (const f of GRANTS[grant]!) if (!form[f]) add(`request.body.${f}`, `missing required field "${f}" for grant_type ${grant}`);
  const authorization = String(headers['authorization'] ?? '');
  const basic = /^Basic\s+(\S+)$/i.exec(authorization);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    if (!decoded.includes(':') || decoded.startsWith(':')) add('security', 'Basic client credentials must decode to "client_id:client_secret" (RFC 6749 §2.3.1)');
  } else if (!form.client_id) {
    add('security', 'the client authenticates with HTTP Basic or client_id/client_secret in the body (RFC 6749 §2.3.1)');
  }
  return problems;
}

export function tokenAnswer(): AnyObj {
  return { access_token: 'contract-test-access-token', token_type: 'Bearer', expires_in: 3600 };
}
