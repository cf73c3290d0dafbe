// The engine runs one capability of a connector: validate input, authenticate, render the request,
// send it with retries and rate limiting, map and validate the response. It returns a typed result
// and never throws for provider or input problems.
import type { Connector, CompiledRequest, CompiledErrors, CompiledCapability } from '../manifest/connector.ts';
import { fieldErrors, credentialErrors } from '../manifest/ajv.ts';
import { applyAuth, oauthBearer, OAuthClientCredentialsCache, type AppliedAuth } from '../auth/strategies.ts';
import { fromTokenSource, StaticTokenSource, type TokenSource } from '../auth/token-source.ts';
import { buildRequest, type CallContext, type BuiltRequest, type PageParts } from './request.ts';
import { readStream, type StreamOptions, type StreamPage } from './stream.ts';
import { UndiciTransport, TransportError, type HttpTransport, type HttpResponse } from '../http/transport.ts';
import { EngineError, failure, redact, type EngineFailure } from '../http/errors.ts';
import { ProviderRateLimits } from './rate-limit.ts';
import { NodemailerSmtpTransport, type SmtpTransport } from '../http/smtp/transport.ts';
import { sendSmtp, verifySmtp, type SmtpRunContext } from './smtp.ts';
import type { RunOptions, RunMeta } from './run-types.ts';
import { parseBody, xmlErrorMessage } from './response-body.ts';
import { allowPrivateProvidersIn, baseUrlFields, publicOnlyTransport, tenantHostProblems } from './provider-hosts.ts';
import type { Resolver } from '../http/address-policy.ts';
export type { RunOptions, RunMeta } from './run-types.ts';

const OAUTH_CODE = 'oauth2_authorization_code';

export type RunResult<T = unknown> =
  | { ok: true; output: T; meta: RunMeta }
  | { ok: false; error: EngineFailure; meta: RunMeta };

export interface EngineOptions {
  transport?: HttpTransport;
  /** Environment consulted for PLUGBOARD_BASE_URL_<PROVIDER>; defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Sleep used between retries (tests pass a fast one). */
  sleep?: (ms: number) => Promise<void>;
  /** Longest Retry-After the engine will wait for before giving up (ms). */
  maxRetryAfterMs?: number;
  /** Transport of smtp connectors (pooled per integration); default nodemailer's. */
  smtp?: SmtpTransport;
  /** Reach private addresses for servers the credentials name (PLUGBOARD_ALLOW_PRIVATE_PROVIDERS; default from env). */
  allowPrivateProviders?: boolean;
  /** DNS of the save-time check of those servers (tests). */
  resolver?: Resolver;
}

const REQUEST_ID_HEADERS = ['request-id', 'x-request-id', 'twilio-request-id', 'x-message-id', 'x-amzn-requestid', 'x-correlation-id'];

export class Engine {
  readonly transport: HttpTransport;
  private readonly env: Record<string, string | undefined>;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly limits = new ProviderRateLimits();
  private readonly tokens = new OAuthClientCredentialsCache();
  private readonly maxRetryAfterMs: number;
  readonly smtp: SmtpTransport;
  readonly allowPrivateProviders: boolean;
  private readonly resolver?: Resolver;

  constructor(opts: EngineOptions = {}) {
    this.transport = opts.transport ?? new UndiciTransport();
    this.smtp = opts.smtp ?? new NodemailerSmtpTransport();
    this.env = opts.env ?? process.env;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.maxRetryAfterMs = opts.maxRetryAfterMs ?? 60_000;
    this.allowPrivateProviders = opts.allowPrivateProviders ?? allowPrivateProvidersIn(this.env);
    this.resolver = opts.resolver;
  }

  /** Save-time check of the servers the credentials name (runtime/engine/provider-hosts.ts): field -> problems, or undefined. */
  async checkProviderHosts(connector: Connector, credentials: Record<string, unknown>, integration?: RunOptions['integration']): Promise<Record<string, string[]> | undefined> {
    if (this.allowPrivateProviders) return undefined;
    const judgeBaseUrl = !this.env[`PLUGBOARD_BASE_URL_${connector.name.toUpperCase()}`];
    return tenantHostProblems(connector, { credentials: withDefaults(connector, credentials), integration, judgeBaseUrl, resolver: this.resolver });
  }

  /** Base URL in order (DESIGN §10): explicit override, PLUGBOARD_BASE_URL_<NAME>, a templated base_url
   *  rendered from connection.* (or a tenant's own server URL in credentials.*), chosen environment,
   *  base_url, first environment. */
  baseUrl(connector: Connector, opts: Pick<RunOptions, 'baseUrl' | 'integration' | 'connection'> & Partial<Pick<RunOptions, 'credentials'>> = {}): string {
    if (opts.baseUrl) return opts.baseUrl;
    const fromEnv = this.env[`PLUGBOARD_BASE_URL_${connector.name.toUpperCase()}`];
    if (fromEnv) return fromEnv;
    if (connector.baseUrlTemplate) {
      const url = connector.baseUrlTemplate.render({ connection: opts.connection ?? {}, credentials: opts.credentials ?? {} }).trim();
      if (/^https?:\/\/[^\s/]/.test(url)) return url;
      if (connector.baseUrlTemplate.refs.some((r) => r.path[0] === 'credentials')) {
        throw new EngineError(failure('invalid_credentials', `the base URL of ${connector.displayName} comes from the credentials (${connector.baseUrlTemplate.source}), which give no http(s) URL`, { fields: { credentials: ['must give an http(s) URL for the base URL'] }, retryable: false }));
      }
      if (!opts.integration?.environment && !Object.keys(connector.environments).length) {
        throw new EngineError(failure('invalid_credentials', `the base URL of ${connector.displayName} comes from the connection (${connector.baseUrlTemplate.source}), which this integration lacks: connect it again`, { retryable: false }));
      }
    }
    const envName = opts.integration?.environment; // metadata is the tenant's own: never interpreted
    if (envName) {
      const url = connector.environments[envName];
      if (!url) throw new EngineError(failure('invalid_input', `unknown environment "${envName}" (known: ${Object.keys(connector.environments).join(', ') || 'none'})`, { fields: { environment: ['is not one of the connector\'s environments'] }, retryable: false }));
      return url;
    }
    const url = connector.baseUrl ?? Object.values(connector.environments)[0];
    if (!url) throw new EngineError(failure('unsupported', `connector ${connector.name} has no base URL`, { retryable: false }));
    return url;
  }

  async run(connector: Connector, capabilityName: string, opts: RunOptions): Promise<RunResult> {
    const started = performance.now();
    const meta: RunMeta = { attempts: 0, duration_ms: 0 };
    const secrets = this.secretValues(connector, opts.credentials);
    try {
      const cap = connector.capabilities.get(capabilityName);
      if (!cap) throw new EngineError(failure('unsupported', `connector ${connector.name} has no capability "${capabilityName}"`, { retryable: false }));
      const input = opts.input ?? {};
      if (!cap.schema.validateInput(input)) {
        const fields = fieldErrors(cap.schema.validateInput.errors, 'input');
        throw new EngineError(failure('invalid_input', `invalid input: ${summarise(fields)}`, { fields, retryable: false }));
      }
      const { body, status, headers } = cap.smtp
        ? await sendSmtp(this.smtpContext(), connector, cap.smtp.message, input, { credentials: this.checkedCredentials(connector, opts), opts, timeoutMs: cap.timeoutMs, meta, secrets })
        : await this.httpAnswer(connector, cap, opts, input, meta, secrets);
      let output: unknown;
      try {
        output = await cap.response.evaluate(body, { input, status, headers });
      } catch (err) {
        throw new EngineError(failure('invalid_output', `response mapping failed: ${(err as Error).message}`, { retryable: false }));
      }
      if (!cap.schema.validateOutput(output)) {
        const fields = fieldErrors(cap.schema.validateOutput.errors, 'output');
        throw new EngineError(failure('invalid_output', `the provider's answer does not map to a valid ${capabilityName} output: ${summarise(fields)}`, { fields, status, retryable: false }));
      }
      meta.duration_ms = Math.round(performance.now() - started);
      return { ok: true, output, meta };
    } catch (err) {
      meta.duration_ms = Math.round(performance.now() - started);
      return { ok: false, error: this.toFailure(err, secrets), meta };
    }
  }

  /** Reads a stream page by page (DESIGN §2, runtime/engine/stream.ts); throws EngineError, redacted. */
  readStream(connector: Connector, stream: string, opts: StreamOptions): AsyncGenerator<StreamPage> {
    return readStream({
      exchange: async (c, req, o, meta, secrets, page) => {
        const response = await this.exchange(c, req, c.timeoutMs, o, {}, meta, secrets, page);
        return { response, body: parseBody(response) };
      },
      raiseProviderError: (c, res, body) => this.raiseProviderError(c, {}, res, body),
      baseUrl: (c, o) => this.baseUrl(c, o),
      secretValues: (c, creds) => this.secretValues(c, creds),
      toFailure: (err, secrets) => this.toFailure(err, secrets),
    }, connector, stream, opts);
  }

  /** Runs the manifest's verify request: ok when the provider accepts the credentials. */
  async verify(connector: Connector, opts: Omit<RunOptions, 'input'>): Promise<RunResult<{ verified: true }>> {
    const started = performance.now();
    const meta: RunMeta = { attempts: 0, duration_ms: 0 };
    const secrets = this.secretValues(connector, opts.credentials);
    try {
      const v = connector.verify;
      if (!v) throw new EngineError(failure('unsupported', `connector ${connector.name} declares no verify request`, { retryable: false }));
      if (v.smtp || !v.request) {
        await verifySmtp(this.smtpContext(), connector, { credentials: this.checkedCredentials(connector, opts), opts, timeoutMs: connector.timeoutMs, meta, secrets });
        meta.duration_ms = Math.round(performance.now() - started);
        return { ok: true, output: { verified: true }, meta };
      }
      const response = await this.exchange(connector, v.request, connector.timeoutMs, opts, {}, meta, secrets);
      const body = parseBody(response);
      await this.raiseProviderError(connector, {}, response, body);
      if (v.success && !(await v.success.evaluate(body, { status: response.status, headers: response.headers }))) {
        throw new EngineError(failure('provider_error', 'the provider did not confirm the credentials', { status: response.status, retryable: false }));
      }
      meta.duration_ms = Math.round(performance.now() - started);
      return { ok: true, output: { verified: true }, meta };
    } catch (err) {
      meta.duration_ms = Math.round(performance.now() - started);
      return { ok: false, error: this.toFailure(err, secrets), meta };
    }
  }

  /** Ends the SMTP pools (platform shutdown). */
  async close(): Promise<void> {
    await this.smtp.close();
  }

  private async httpAnswer(connector: Connector, cap: CompiledCapability, opts: RunOptions, input: Record<string, unknown>, meta: RunMeta, secrets: string[]) {
    if (!cap.request) throw new EngineError(failure('unsupported', `capability ${cap.name} of ${connector.name} has no request`, { retryable: false }));
    const response = await this.exchange(connector, cap.request, cap.timeoutMs, opts, input, meta, secrets);
    const body = parseBody(response);
    // A 2xx with no errors.when to judge (the usual answer) needs no async look.
    if (response.status < 200 || response.status >= 300 || (cap.errors.when ?? connector.errors.when)) await this.raiseProviderError(connector, cap.errors, response, body);
    return { body, status: response.status, headers: response.headers };
  }

  private smtpContext(): SmtpRunContext {
    return {
      transport: this.smtp,
      publicOnly: !this.allowPrivateProviders,
      acquire: async (c, key) => {
        try {
          await this.limits.acquire(c.name, c.rateLimit, key);
        } catch {
          throw new EngineError(failure('rate_limited', `too many ${c.name} calls queued for this integration (rate_limit ${JSON.stringify(c.rateLimit)}); try again shortly`));
        }
      },
      pause: (c, attempt) => this.sleep(backoff(attempt, c.retry.initial_delay_ms, c.retry.max_delay_ms)),
    };
  }

  /** The call's credentials with the schema's defaults, checked against credential_schema. */
  private checkedCredentials(connector: Connector, opts: Omit<RunOptions, 'input'>): Record<string, unknown> {
    const { credentials } = this.credentialsOf(connector, opts);
    if (!connector.validateCredentials(credentials)) {
      const fields = credentialErrors(connector.validateCredentials.errors, connector.credentialSchema);
      throw new EngineError(failure('invalid_credentials', `invalid credentials: ${summarise(fields)}`, { fields, retryable: false }));
    }
    return credentials;
  }

  private secretValues(connector: Connector, credentials: Record<string, unknown>): string[] {
    const fields = connector.auth.spec.type === OAUTH_CODE ? [...connector.sensitiveFields, 'access_token'] : connector.sensitiveFields;
    return fields.map((f) => credentials[f]).filter((v): v is string => typeof v === 'string' && v.length > 0);
  }

  private toFailure(err: unknown, secrets: string[]): EngineFailure {
    const f: EngineFailure = err instanceof EngineError
      ? err.failure
      : err instanceof TransportError
        ? failure(err.reason === 'timeout' ? 'timeout' : 'network_error', err.message)
        : failure('unsupported', `internal error: ${(err as Error)?.message ?? String(err)}`, { retryable: false });
    return {
      ...f,
      message: redact(f.message, secrets),
      ...(f.provider_message !== undefined ? { provider_message: redact(f.provider_message, secrets) } : {}),
    };
  }

  /** Validate credentials, authenticate, build and send the request with retries; an OAuth token the
   *  provider rejects (401) is refreshed (authorization code) or fetched anew (client credentials) once
   *  and the request sent once more. Secrets of the call are
   *  added to `secrets` as soon as they are known, so every later error is redacted. */
  private async exchange(
    connector: Connector,
    request: CompiledRequest,
    timeoutMs: number,
    opts: RunOptions,
    input: Record<string, unknown>,
    meta: RunMeta,
    secrets: string[],
    stream?: { page: PageParts; sync: { cursor: string; page?: Record<string, string> }; url?: string },
  ): Promise<HttpResponse> {
    const { credentials, tokenSource } = this.credentialsOf(connector, opts);
    if (!connector.validateCredentials(credentials)) {
      const fields = credentialErrors(connector.validateCredentials.errors, connector.credentialSchema);
      throw new EngineError(failure('invalid_credentials', `invalid credentials: ${summarise(fields)}`, { fields, retryable: false }));
    }
    const integration = { id: opts.integration?.id ?? '', environment: opts.integration?.environment ?? '', metadata: opts.integration?.metadata ?? {} };
    const baseUrl = this.baseUrl(connector, { ...opts, credentials });
    // A base URL the credentials gave (not --base-url / PLUGBOARD_BASE_URL_<NAME>) reaches public addresses only.
    const tenantBase = !this.allowPrivateProviders && !opts.baseUrl && !this.env[`PLUGBOARD_BASE_URL_${connector.name.toUpperCase()}`] && baseUrlFields(connector);
    const transport = tenantBase && tenantBase.length ? publicOnlyTransport(this.transport, connector, tenantBase) : this.transport;
    const key = opts.integration?.id ?? 'default';
    const authCtx = { credentials, integration, transport, timeoutMs, cacheKey: key, baseUrl, env: this.env, tokens: this.tokens, tokenSource };
    const auth = await applyAuth(connector, authCtx);
    secrets.push(...auth.secrets);
    const ctx: CallContext = { credentials, input, integration, connection: opts.connection ?? {}, ...(stream ? { sync: stream.sync } : {}) };
    const built = await buildRequest(request, baseUrl, ctx, auth, stream?.page);
    if (stream) stream.url = built.url;
    const response = await this.sendWithRetry(connector, built, timeoutMs, key, meta, transport);
    if (response.status !== 401 || !auth.accessToken) return response;
    const rejected = auth.accessToken;
    let renewed: AppliedAuth;
    if (tokenSource) {
      renewed = oauthBearer(connector, await fromTokenSource(() => tokenSource.refreshAfterRejection(rejected)));
    } else {
      // A cached client-credentials token the provider no longer accepts: forget it and fetch a new one.
      this.tokens.forget(`${connector.name}:${key}`, rejected);
      renewed = await applyAuth(connector, authCtx);
    }
    if (renewed.accessToken === rejected) return response; // nothing newer (a static token): the 401 stands
    secrets.push(...renewed.secrets);
    const attempts = meta.attempts;
    const retried = await this.sendWithRetry(connector, await buildRequest(request, baseUrl, ctx, renewed, stream?.page), timeoutMs, key, meta, transport);
    meta.attempts += attempts;
    return retried;
  }

  /** The credentials to validate and, for oauth2_authorization_code, the token source: the caller's, else
   *  a static one over credentials.access_token (a token is never a credential field). */
  private credentialsOf(connector: Connector, opts: RunOptions): { credentials: Record<string, unknown>; tokenSource?: TokenSource } {
    const credentials = withDefaults(connector, opts.credentials);
    if (connector.auth.spec.type !== OAUTH_CODE) return { credentials };
    const { access_token: token, ...rest } = credentials;
    if (token !== undefined && typeof token !== 'string') {
      throw new EngineError(failure('invalid_credentials', 'invalid credentials: access_token must be a string', { fields: { 'credentials.access_token': ['must be a string'] }, retryable: false }));
    }
    return { credentials: rest, tokenSource: opts.tokenSource ?? (token ? new StaticTokenSource(token) : undefined) };
  }

  private async sendWithRetry(connector: Connector, req: BuiltRequest, timeoutMs: number, integrationKey: string, meta: RunMeta, transport = this.transport): Promise<HttpResponse> {
    const retry = connector.retry;
    for (let attempt = 1; ; attempt++) {
      if (connector.rateLimit) {
        try {
          await this.limits.acquire(connector.name, connector.rateLimit, integrationKey);
        } catch {
          throw new EngineError(failure('rate_limited', `too many ${connector.name} calls queued for this integration (rate_limit ${JSON.stringify(connector.rateLimit)}); try again shortly`));
        }
      }
      meta.attempts = attempt;
      let response: HttpResponse;
      try {
        response = await transport.send({ ...req, timeoutMs });
      } catch (err) {
        if (!(err instanceof TransportError)) throw err;
        const retryable = err.reason === 'network' ? err.notSent || retry.on_timeout : retry.on_timeout;
        if (retryable && attempt < retry.max_attempts) {
          await this.sleep(backoff(attempt, retry.initial_delay_ms, retry.max_delay_ms));
          continue;
        }
        throw new EngineError(err.reason === 'timeout'
          ? failure('timeout', `${connector.displayName} did not answer: ${err.message}`)
          : failure('network_error', `cannot reach ${connector.displayName}: ${err.message}`));
      }
      meta.status = response.status;
      meta.request_id = requestId(response.headers) ?? meta.request_id;
      if (retry.on_status.includes(response.status) && attempt < retry.max_attempts) {
        const after = retry.respect_retry_after ? retryAfterMs(response.headers['retry-after']) : undefined;
        if (after !== undefined && after > this.maxRetryAfterMs) return response; // too long to hold the caller: report it
        await this.sleep(after ?? backoff(attempt, retry.initial_delay_ms, retry.max_delay_ms));
        continue;
      }
      return response;
    }
  }

  private async raiseProviderError(connector: Connector, capErrors: CompiledErrors, response: HttpResponse, body: unknown): Promise<void> {
    const errors = { ...connector.errors, ...capErrors };
    const is2xx = response.status >= 200 && response.status < 300;
    if (is2xx && !(errors.when && (await safeEval(errors.when, body)))) return;
    const message = errors.message ? await safeEval(errors.message, body) : (defaultMessage(body) ?? xmlErrorMessage(response, body));
    const code = errors.code ? await safeEval(errors.code, body) : undefined;
    const providerMessage = typeof message === 'string' && message ? message.slice(0, 1000) : undefined;
    const retryAfter = retryAfterMs(response.headers['retry-after']);
    // An OAuth token still rejected after the one refresh: the grant needs the tenant (reconnect). Any
    // other 401 (RFC 9110 §15.5.2: the credentials were refused) is invalid_credentials too.
    const tokenRejected = response.status === 401 && connector.auth.spec.type === OAUTH_CODE;
    const credentialsRejected = response.status === 401 && connector.auth.spec.type !== 'none';
    throw new EngineError(
      failure(credentialsRejected ? 'invalid_credentials' : 'provider_error', `${connector.displayName} ${tokenRejected ? 'rejected the OAuth access token (401)' : `answered ${response.status}`}${providerMessage ? `: ${providerMessage}` : ''}`, {
        status: response.status,
        provider_message: providerMessage,
        provider_code: code === undefined || code === null ? undefined : String(code),
        ...(retryAfter !== undefined ? { retry_after: Math.ceil(retryAfter / 1000) } : {}),
        ...(is2xx ? { retryable: false } : {}),
      }),
    );
  }
}

function requestId(headers: Record<string, string>): string | undefined {
  for (const h of REQUEST_ID_HEADERS) if (headers[h]) return headers[h];
}

function summarise(fields: Record<string, string[]>): string {
  return Object.entries(fields).map(([k, v]) => `${k} ${v.join(', ')}`).join('; ');
}

function withDefaults(connector: Connector, credentials: Record<string, unknown>): Record<string, unknown> {
  const out = { ...credentials };
  for (const [k, f] of Object.entries(connector.credentialSchema)) if (out[k] === undefined && f.default !== undefined) out[k] = f.default;
  return out;
}

async function safeEval(expr: { evaluate(d: unknown): Promise<unknown> }, body: unknown): Promise<unknown> {
  try {
    return await expr.evaluate(body);
  } catch {
    return undefined;
  }
}

/** Common error shapes: {error:{message}}, {message}, {error:"..."}, {errors:[{message}]}, {error_message}. */
function defaultMessage(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim().slice(0, 500) || undefined;
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, any>;
  const candidates = [b.error?.message, b.error_message, b.message, b.error_description, typeof b.error === 'string' ? b.error : undefined, b.errors?.[0]?.message, b.detail, b.title];
  return candidates.find((c) => typeof c === 'string' && c.length > 0);
}

/** Exponential backoff with jitter: 50-100% of min(max, initial * 2^(attempt-1)). */
export function backoff(attempt: number, initialMs: number, maxMs: number): number {
  const base = Math.min(maxMs, initialMs * 2 ** (attempt - 1));
  return Math.round(base * (0.5 + Math.random() / 2));
}

/** Retry-After as delta-seconds or HTTP date, in ms. */
export function retryAfterMs(value: string | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
