// OAuth 2.0 client credentials (RFC 6749 §4.4) for API clients: client secrets stored hashed,
// access tokens are JWTs signed with jose (HS256, 1 hour, iss/aud/sub/scope/tenant/jti), checked
// on every request, and invalidated when their client is revoked or the token itself is (RFC 7009).
import { createHash, hkdfSync, randomInt, timingSafeEqual } from 'node:crypto';
import { SignJWT, jwtVerify, decodeProtectedHeader, errors as joseErrors } from 'jose';
import type { Store, OAuthClientRow } from '../store/types.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { SCOPES, type Principal, type Scope } from './api-keys.ts';
import { newId } from '../store/ids.ts';
import { PlugboardError } from '../errors/plugboard-error.ts';
import type { AuthThrottle } from './auth-throttle.ts';

export const TOKEN_TTL_SECONDS = 3600;
export const AUDIENCE = 'plugboard-api';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const CLIENT_ID_PATTERN = /^pbc_[0-9A-Za-z]{24}$/;

function random62(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += BASE62[randomInt(62)];
  return s;
}

const hash = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** An RFC 6749 §5.2 error of Plugboard's token endpoint (answered in OAuth's own format, not the envelope). */
export class OAuthError extends PlugboardError {
  constructor(
    readonly error: 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client' | 'unsupported_grant_type' | 'invalid_scope' | 'temporarily_unavailable',
    readonly description: string,
    readonly status = 400,
    retryAfter?: number,
  ) {
    super(status === 401 ? 'unauthenticated' : status === 429 ? 'rate_limited' : 'validation', description, { code: error, retryAfter });
  }
}

export function oauthClientView(row: OAuthClientRow) {
  return { id: row.id, name: row.name, client_id: row.client_id, scopes: row.scopes, last_used_at: row.last_used_at, created_at: row.created_at };
}

export class OAuthService {
  constructor(
    private readonly store: Store,
    private readonly keyring: Keyring,
    readonly issuer: string,
    private readonly throttle: AuthThrottle,
  ) {}

  /** The signing key for a master key id: derived (HKDF) so the master key itself never signs anything. */
  private signingKey(masterKeyId: string): Uint8Array | undefined {
    const master = this.keyring.find(masterKeyId);
    if (!master) return undefined;
    return new Uint8Array(hkdfSync('sha256', master.key, Buffer.from('plugboard'), Buffer.from('oauth-access-token-signing'), 32));
  }

  async createClient(tenantId: string, name: string, scopes: Scope[]): Promise<{ row: OAuthClientRow; secret: string }> {
    const secret = `pbcs_${random62(40)}`;
    const row: OAuthClientRow = {
      id: newId(),
      tenant_id: tenantId,
      name,
      client_id: `pbc_${random62(24)}`,
      secret_hash: hash(secret),
      scopes,
      revoked_at: null,
      last_used_at: null,
      created_at: new Date().toISOString(),
    };
    await this.store.oauthClients.create(row);
    return { row, secret };
  }

  /**
   * RFC 6749 §2.3.1 client authentication. The secret is always checked: the right one passes from
   * any address. A wrong one counts against `address` and (client id, address); past the budget it is
   * answered 429 with Retry-After instead of 401. Throws OAuthError.
   */
  async authenticateClient(clientId: string | undefined, clientSecret: string | undefined, address: string | undefined): Promise<OAuthClientRow> {
    const client = clientId && clientSecret ? await this.store.oauthClients.findByClientId(clientId) : undefined;
    // Compare digests in constant time; an unknown client costs the same as a wrong secret.
    const given = Buffer.from(hash(clientSecret ?? ''), 'hex');
    const expected = Buffer.from(client?.secret_hash ?? hash(`no-such-client:${clientId}`), 'hex');
    const secretRight = !!client && timingSafeEqual(given, expected);
    if (client && secretRight && !client.revoked_at) return client;
    // A revoked client's right secret is not a guess: refused, not counted.
    if (!secretRight && (clientId || clientSecret)) {
      // Only well-formed client ids get a counter of their own (no unbounded keys from made-up ids).
      const throttledId = clientId && CLIENT_ID_PATTERN.test(clientId) ? clientId : undefined;
      const wait = await this.throttle.failed(address, throttledId);
      if (wait !== undefined) throw new OAuthError('temporarily_unavailable', `too many failed client authentications; retry in ${wait} s`, 429, wait);
    }
    throw new OAuthError('invalid_client', 'client authentication failed', 401);
  }

  /** Client authentication + scope check + token issue. Throws OAuthError in RFC 6749 §5.2 terms. */
  async issueToken(clientId: string | undefined, clientSecret: string | undefined, requestedScope: string | undefined, address: string | undefined): Promise<{ access_token: string; token_type: 'Bearer'; expires_in: number; scope: string }> {
    const client = await this.authenticateClient(clientId, clientSecret, address);
    let scopes = client.scopes as Scope[];
    if (requestedScope !== undefined && requestedScope.trim() !== '') {
      const asked = requestedScope.trim().split(/\s+/);
      // admin includes every other scope: an admin client may ask for a narrower token.
      const granted = (s: string) => client.scopes.includes(s) || client.scopes.includes('admin');
      const bad = asked.filter((s) => !(SCOPES as readonly string[]).includes(s) || !granted(s));
      if (bad.length) throw new OAuthError('invalid_scope', `scope not granted to this client: ${bad.join(' ')}`);
      scopes = asked as Scope[];
    }
    const master = this.keyring.active;
    const token = await new SignJWT({ scope: scopes.join(' '), tenant: client.tenant_id, cid: client.id })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: master.id })
      .setIssuer(this.issuer)
      .setAudience(AUDIENCE)
      .setSubject(client.client_id)
      .setJti(newId())
      .setIssuedAt()
      .setExpirationTime(`${TOKEN_TTL_SECONDS}s`)
      .sign(this.signingKey(master.id)!);
    return { access_token: token, token_type: 'Bearer', expires_in: TOKEN_TTL_SECONDS, scope: scopes.join(' ') };
  }

  /** Signature, issuer, audience, expiry, revoked token, revoked client: any failure means no principal. */
  async verifyToken(token: string): Promise<Principal | undefined> {
    return (await this.checkToken(token)).principal;
  }

  /**
   * verifyToken, and whether the token is `genuine`: signed by this server (also when it has since
   * expired or been revoked), so the brute-force throttle counts only forged or made-up tokens.
   */
  async checkToken(token: string): Promise<{ principal?: Principal; genuine: boolean }> {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      return { genuine: false };
    }
    const key = kid ? this.signingKey(kid) : undefined;
    if (!key) return { genuine: false };
    try {
      const { payload } = await jwtVerify(token, key, { issuer: this.issuer, audience: AUDIENCE, algorithms: ['HS256'], typ: 'at+jwt' });
      const tenant = payload['tenant'];
      const cid = payload['cid'];
      if (typeof tenant !== 'string' || typeof cid !== 'string' || typeof payload.jti !== 'string') return { genuine: true };
      if (await this.store.revokedTokens.isRevoked(payload.jti)) return { genuine: true };
      const client = await this.store.oauthClients.findById(cid);
      if (!client || client.revoked_at || client.tenant_id !== tenant) return { genuine: true };
      const scopes = String(payload['scope'] ?? '').split(' ').filter((s): s is Scope => (SCOPES as readonly string[]).includes(s));
      return { principal: { tenantId: tenant, scopes, actor: `client:${client.id}`, kind: 'oauth_client', credentialId: client.id }, genuine: true };
    } catch (err) {
      // Expiry and claim checks run after the signature is verified: such a token is ours, not a guess.
      if (err instanceof joseErrors.JWTExpired || err instanceof joseErrors.JWTClaimValidationFailed) return { genuine: true };
      if (err instanceof joseErrors.JOSEError) return { genuine: false };
      throw err;
    }
  }

  /**
   * RFC 7009: revoking an unknown or invalid token is not an error. An admin of the tenant revokes
   * any of the tenant's tokens; a client (`clientId`: its row id) only tokens issued to itself, and
   * another's token is treated as unknown (nothing is revealed about it).
   */
  /** True when a token was revoked now; false for an unknown, foreign, expired or already revoked one. */
  async revokeToken(by: { tenantId: string; clientId?: string }, token: string): Promise<boolean> {
    const p = await this.verifyToken(token);
    if (!p || p.tenantId !== by.tenantId || (by.clientId !== undefined && p.credentialId !== by.clientId)) return false;
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { jti: string; exp: number };
    await this.store.revokedTokens.add(payload.jti, by.tenantId, new Date(payload.exp * 1000).toISOString());
    return true;
  }
}

export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}

