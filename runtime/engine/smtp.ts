// Runs the capabilities and verify of smtp connectors (auth type smtp): the auth block's templates give
// the server settings, the capability's smtp.message expression gives the message, the SMTP transport
// (runtime/http/smtp) sends it through the integration's pool, and its answer {messageId, accepted,
// rejected, response} is what the response expression maps. SMTP failures become typed failures:
// a refused login is invalid_credentials, an unreachable server network_error or timeout, a refused
// message provider_error (retryable for 4xx replies, not for 5xx).
import type { Connector } from '../manifest/connector.ts';
import type { CompiledExpression } from '../lang/expressions.ts';
import { SMTP_SECURITY, type SmtpSecurity } from '../manifest/smtp.ts';
import { EngineError, failure, type EngineFailure } from '../http/errors.ts';
import { SmtpError, type SmtpSettings, type SmtpTransport, type SmtpSent } from '../http/smtp/transport.ts';
import { smtpMessage } from './smtp-message.ts';
import { refusedHost, smtpHostFields } from './provider-hosts.ts';
import type { RunMeta, RunOptions } from './run-types.ts';

export interface SmtpRunContext {
  transport: SmtpTransport;
  /** A host from the credentials reaches public addresses only (unless PLUGBOARD_ALLOW_PRIVATE_PROVIDERS=1). */
  publicOnly?: boolean;
  /** Waits its turn under the manifest's rate_limit (throws rate_limited). */
  acquire(connector: Connector, key: string): Promise<void>;
  /** Sleeps before attempt `attempt + 1`. */
  pause(connector: Connector, attempt: number): Promise<void>;
}

const DEFAULT_PORT: Record<SmtpSettings['security'], number> = { tls: 465, starttls: 587, none: 25, opportunistic: 587 };

function bad(message: string, field: string): never {
  throw new EngineError(failure('invalid_credentials', `invalid SMTP settings: ${message}`, { fields: { [`credentials.${field}`]: [message] }, retryable: false }));
}

/** The SMTP server settings of one integration, rendered from the auth block; pushes the password (and its AUTH encodings) to `secrets`. */
export function smtpSettings(connector: Connector, credentials: Record<string, unknown>, integration: Record<string, unknown>, timeoutMs: number, secrets: string[]): SmtpSettings {
  const spec = connector.auth.spec;
  const render = (key: string) => connector.auth.templates.get(key)?.render({ credentials, integration }).trim() ?? '';
  const host = render('host');
  if (!host || /[\s/]/.test(host)) bad(`host must be a host name or address, got ${JSON.stringify(host)}`, 'host');
  const securityText = typeof spec.security === 'string' ? render('security').toLowerCase() : spec.secure ? 'tls' : 'opportunistic';
  if (securityText !== 'opportunistic' && !(SMTP_SECURITY as readonly string[]).includes(securityText)) bad(`security must be one of ${SMTP_SECURITY.join(', ')}, got ${JSON.stringify(securityText)}`, 'security');
  const security = securityText as SmtpSecurity | 'opportunistic';
  const portText = typeof spec.port === 'number' ? String(spec.port) : render('port');
  const port = portText === '' ? DEFAULT_PORT[security] : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) bad(`port must be an integer from 1 to 65535, got ${JSON.stringify(portText)}`, 'port');
  const ru = typeof spec.reject_unauthorized === 'string' ? render('reject_unauthorized').toLowerCase() : spec.reject_unauthorized;
  if (ru !== undefined && ru !== '' && ru !== true && ru !== false && ru !== 'true' && ru !== 'false') bad(`reject_unauthorized must be true or false, got ${JSON.stringify(ru)}`, 'reject_unauthorized');
  const username = render('username') || undefined;
  const password = render('password') || undefined;
  if (password) {
    secrets.push(password, Buffer.from(password).toString('base64'));
    if (username) secrets.push(Buffer.from(`\u0000${username}\u0000${password}`).toString('base64'));
  }
  return { host, port, security, username, password, rejectUnauthorized: !(ru === false || ru === 'false'), maxConnections: spec.max_connections ?? 3, timeoutMs };
}

/** A failed SMTP exchange as the engine's typed failure (redacted later by the engine). */
export function smtpFailure(connector: Connector, err: SmtpError): EngineFailure {
  const { code, responseCode, response, originalCode } = err.parts;
  const name = connector.displayName;
  if (code === 'EADDRESSPOLICY') return refusedHost(connector, smtpHostFields(connector), err.message.replace(/^connection refused: the host /, '')).failure;
  const reply = response?.slice(0, 500);
  const extra = { ...(responseCode !== undefined ? { provider_code: String(responseCode) } : {}), ...(reply ? { provider_message: reply } : {}) };
  if (code === 'EAUTH' || code === 'ENOAUTH' || responseCode === 535 || responseCode === 534) {
    return failure('invalid_credentials', `${name} rejected the login${reply ? `: ${reply}` : ''}`, { ...extra, retryable: false });
  }
  if (code === 'ETIMEDOUT') return failure('timeout', `${name} did not answer in time (${err.parts.timeoutType ?? 'timeout'})`, extra);
  if (err.tls) return failure('network_error', `TLS with ${name} failed: ${err.message}`, { ...extra, retryable: false });
  if (code === 'ECONNECTION' || code === 'ESOCKET' || code === 'EDNS') {
    return failure('network_error', `cannot reach ${name}: ${originalCode ?? code}${err.message ? ` (${err.message})` : ''}`, extra);
  }
  // 4xx and 503 replies are transient (RFC 5321 §4.2.1), other 5xx permanent.
  const transient = responseCode !== undefined && ((responseCode >= 400 && responseCode < 500) || responseCode === 503);
  return failure('provider_error', `${name} refused the message${responseCode !== undefined ? ` (${responseCode})` : ''}${reply ? `: ${reply}` : `: ${err.message}`}`, { ...extra, retryable: transient });
}

function replyCode(sent: SmtpSent): number {
  const m = /^([2-5]\d\d)/.exec(sent.response);
  return m ? Number(m[1]) : 250;
}

async function attempt<T>(ctx: SmtpRunContext, connector: Connector, key: string, meta: RunMeta, call: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    await ctx.acquire(connector, key);
    meta.attempts = n;
    try {
      return await call();
    } catch (err) {
      const e = SmtpError.from(err);
      if (e.parts.responseCode !== undefined) meta.status = e.parts.responseCode;
      if (e.notSent && n < connector.retry.max_attempts) {
        await ctx.pause(connector, n);
        continue;
      }
      throw new EngineError(smtpFailure(connector, e));
    }
  }
}

export interface SmtpCall {
  credentials: Record<string, unknown>;
  opts: Omit<RunOptions, 'input'>;
  timeoutMs: number;
  meta: RunMeta;
  secrets: string[];
}

/** The settings with publicOnly when the host comes from the tenant (credentials.host) and private servers are not allowed. */
function guarded(ctx: SmtpRunContext, connector: Connector, settings: SmtpSettings): SmtpSettings {
  return ctx.publicOnly && smtpHostFields(connector).length ? { ...settings, publicOnly: true } : settings;
}

function integrationOf(opts: SmtpCall['opts']) {
  return { id: opts.integration?.id ?? '', environment: opts.integration?.environment ?? '', metadata: opts.integration?.metadata ?? {} };
}

/** Sends one capability's message; resolves to what its response expression reads. */
export async function sendSmtp(ctx: SmtpRunContext, connector: Connector, message: CompiledExpression, input: Record<string, unknown>, call: SmtpCall): Promise<{ body: SmtpSent; status: number; headers: Record<string, string> }> {
  const integration = integrationOf(call.opts);
  const settings = guarded(ctx, connector, smtpSettings(connector, call.credentials, integration, call.timeoutMs, call.secrets));
  let value: unknown;
  try {
    value = await message.evaluate({ input, credentials: call.credentials, integration });
  } catch (err) {
    throw new EngineError(failure('invalid_input', `the smtp.message expression failed: ${(err as Error).message}`, { retryable: false }));
  }
  const mail = smtpMessage(value);
  const key = `${connector.name}:${integration.id || 'default'}`;
  const sent = await attempt(ctx, connector, key, call.meta, () => ctx.transport.send(key, settings, mail));
  call.meta.status = replyCode(sent);
  return { body: sent, status: call.meta.status, headers: {} };
}

/** verify: { smtp: true }: connect, upgrade to TLS as configured, log in. */
export async function verifySmtp(ctx: SmtpRunContext, connector: Connector, call: SmtpCall): Promise<void> {
  const integration = integrationOf(call.opts);
  const settings = guarded(ctx, connector, smtpSettings(connector, call.credentials, integration, call.timeoutMs, call.secrets));
  const key = `${connector.name}:${integration.id || 'default'}`;
  await attempt(ctx, connector, key, call.meta, () => ctx.transport.verify(key, settings));
  call.meta.status = 250;
}
