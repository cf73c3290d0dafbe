// One outbound delivery attempt: POST the stored body with freshly signed Standard Webhooks
// headers, with a deadline (default 10 s), no redirects followed, and the response read only up to
// a cap. Never throws: the result is what the attempt log records.
import { Agent, request, type Dispatcher } from 'undici';
import { checkUrlSyntax, guardedLookup, policyFromEnv, systemResolver, type Resolver, type UrlPolicy } from './url-policy.ts';
import { classifyResponse, truncateExcerpt, DEFAULT_EXCERPT_BYTES, type DeliveryOutcome } from './retry-schedule.ts';
import { signDelivery } from './signing.ts';

export const DEFAULT_SEND_TIMEOUT_MS = 10_000;
/** Bytes of the receiver's answer read at most; the rest is discarded unread. */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;
export const USER_AGENT = 'Plugboard-Webhooks/1.0';

export interface SendInput {
  url: string;
  /** The exact bytes that were signed. */
  body: string | Buffer;
  /** Signed headers (webhook-id, webhook-timestamp, webhook-signature) and any others. */
  headers: Record<string, string>;
  timeoutMs?: number;
  maxResponseBytes?: number;
  excerptBytes?: number;
  /** Target policy; default from the environment (PLUGBOARD_ALLOW_PRIVATE_WEBHOOKS, NODE_ENV). */
  policy?: UrlPolicy;
  /** DNS resolver used at connect time (tests). */
  resolver?: Resolver;
  /**
   * A dispatcher of your own (e.g. a MockAgent). It bypasses the connect-time address guard, so
   * build it with `connect: { lookup: guardedLookup(policy) }` when it reaches the network.
   */
  dispatcher?: Dispatcher;
}

export interface SendResult {
  /** HTTP status of the answer, or null when none came (timeout, refused, policy). */
  status: number | null;
  duration_ms: number;
  /** Start of the answer's body (UTF-8 safe, ~1 KB), null when there was no answer. */
  response_excerpt: string | null;
  /** Why the attempt did not deliver, null when it did. */
  error: string | null;
  /** delivered (2xx), disable (410) or retry. */
  outcome: DeliveryOutcome;
}

const agents = new Map<string, Agent>();
const resolverIds = new WeakMap<Resolver, number>();
let nextResolverId = 1;

/** A keep-alive Agent whose connections only reach addresses the policy allows. */
function agentFor(policy: UrlPolicy, resolver: Resolver): Agent {
  let rid = resolverIds.get(resolver);
  if (rid === undefined) resolverIds.set(resolver, (rid = nextResolverId++));
  const key = `${rid}:${policy.allowPrivate ? 1 : 0}`;
  let agent = agents.get(key);
  if (!agent) {
    agent = new Agent({
      keepAliveTimeout: 10_000,
      connect: { timeout: DEFAULT_SEND_TIMEOUT_MS, lookup: guardedLookup(policy, resolver) as never },
    });
    agents.set(key, agent);
  }
  return agent;
}

/** Closes the pooled connections (shutdown, end of tests). */
export async function closeSenderAgents(): Promise<void> {
  const all = [...agents.values()];
  agents.clear();
  await Promise.all(all.map((a) => a.close().catch(() => undefined)));
}

function describeError(err: unknown): { message: string; timeout: boolean } {
  const e = err as { name?: string; code?: string; message?: string; cause?: unknown };
  const chain: Array<{ name?: string; code?: string; message?: string }> = [];
  for (let c: unknown = e; c && typeof c === 'object' && chain.length < 5; c = (c as { cause?: unknown }).cause) chain.push(c as never);
  const policy = chain.find((c) => c.code === 'EWEBHOOKPOLICY');
  if (policy) return { message: policy.message ?? 'refused by the webhook URL policy', timeout: false };
  const timeout = chain.some((c) => c.name === 'TimeoutError' || c.code === 'UND_ERR_HEADERS_TIMEOUT' || c.code === 'UND_ERR_BODY_TIMEOUT' || c.code === 'UND_ERR_CONNECT_TIMEOUT');
  const code = chain.find((c) => c.code)?.code;
  const message = chain.map((c) => c.message).find((m) => m) ?? 'request failed';
  return { message: code && !message.includes(code) ? `${code}: ${message}` : message, timeout };
}

export async function sendWebhook(input: SendInput): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  const timeoutMs = input.timeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
  const policy = input.policy ?? policyFromEnv();
  const fail = (error: string): SendResult => ({ status: null, duration_ms: elapsed(), response_excerpt: null, error, outcome: 'retry' });

  // Scheme and IP-literal hosts are checked here; host names at connect time by the guarded lookup.
  const target = checkUrlSyntax(input.url, policy);
  if (!target.ok) return fail(target.message);

  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const res = await request(target.url, {
      method: 'POST',
      headers: { 'user-agent': USER_AGENT, 'content-type': 'application/json', ...input.headers },
      body: input.body,
      signal,
      dispatcher: input.dispatcher ?? agentFor(policy, input.resolver ?? systemResolver),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const cap = input.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body) {
        const buf = chunk as Buffer;
        const room = cap - size;
        chunks.push(room < buf.length ? buf.subarray(0, room) : buf);
        size += Math.min(room, buf.length);
        if (size >= cap) break;
      }
    } catch {
      // A body cut short still leaves the status, which is what decides the outcome.
    } finally {
      if (!res.body.destroyed) res.body.destroy();
    }
    const status = res.statusCode;
    const outcome = classifyResponse(status);
    const excerpt = truncateExcerpt(Buffer.concat(chunks), input.excerptBytes ?? DEFAULT_EXCERPT_BYTES);
    let error: string | null = null;
    if (outcome !== 'delivered') {
      error = status >= 300 && status < 400
        ? `receiver answered ${status} (redirects are not followed${res.headers.location ? `; location: ${String(res.headers.location).slice(0, 200)}` : ''})`
        : status === 410 ? 'receiver answered 410 Gone' : `receiver answered ${status}`;
    }
    return { status, duration_ms: elapsed(), response_excerpt: excerpt, error, outcome };
  } catch (err) {
    const d = describeError(err);
    if (signal.aborted || d.timeout) return fail(`timeout: no answer within ${timeoutMs} ms`);
    return fail(d.message);
  }
}

export interface DeliverInput extends Omit<SendInput, 'headers'> {
  /** The `webhook-id`: the same on every attempt and replay of a delivery. */
  webhookId: string;
  /** The current secret, plus the previous one during a rotation. */
  secrets: readonly string[];
  /** Attempt time for `webhook-timestamp` (default now). */
  now?: Date;
  headers?: Record<string, string>;
}

/** Signs `body` for this attempt (fresh timestamp, same id) and sends it. */
export async function deliverWebhook(input: DeliverInput): Promise<SendResult> {
  const body = typeof input.body === 'string' ? input.body : input.body.toString('utf8');
  let signed;
  try {
    signed = signDelivery({ id: input.webhookId, body, secrets: input.secrets, now: input.now });
  } catch (err) {
    return { status: null, duration_ms: 0, response_excerpt: null, error: `cannot sign: ${(err as Error).message}`, outcome: 'retry' };
  }
  return sendWebhook({ ...input, body: signed.body, headers: { ...input.headers, ...signed.headers } });
}
