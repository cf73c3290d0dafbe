// Configuration from the environment (and a .env file, if present). Invalid values stop start-up
// with a message naming the variable.
import fs from 'node:fs';
import path from 'node:path';
import { isIP } from 'node:net';
import { DEFAULT_CONNECTORS_DIR } from './paths.ts';
import { ConfigError } from '../errors/plugboard-error.ts';
import { DEFAULT_WEBHOOK_RETRY_SCHEDULE, parseDuration, parseDurationList } from './durations.ts';


export interface Config {
  port: number;
  host: string;
  connectorsDir: string;
  logLevel: string;
  publicUrl?: string;
  databaseUrl: string;
  /** PLUGBOARD_JOBS_URL; undefined means the application's own SQLite database. */
  jobsUrl?: string;
  /** How often job workers poll for due jobs (ms). */
  jobsPollMs: number;
  /** How long a job lock lasts before another worker may take the job over (crash recovery), ms. */
  jobsLockMs: number;
  /** PLUGBOARD_CORS_ORIGINS: origins allowed to call the API from a browser (comma-separated). */
  corsOrigins: string[];
  /** PLUGBOARD_WEBHOOK_RETRY_SCHEDULE, e.g. "0,30s,2m,10m,30m,2h,6h" (DESIGN.md §5 default). */
  webhookRetryScheduleMs: number[];
  /** PLUGBOARD_WEBHOOK_DISABLE_AFTER: continuous failure that disables a subscription (default 24h). */
  webhookDisableAfterMs: number;
  /** PLUGBOARD_WEBHOOK_LEASE_MS: a crashed worker's in-flight delivery is retried after this. */
  webhookLeaseMs: number;
  /** PLUGBOARD_INBOUND_RATE_PER_SECOND: inbound webhook requests accepted per integration per second. */
  inboundPerSecond: number;
  /** PLUGBOARD_METRICS_TOKEN: when set, GET /metrics requires `Authorization: Bearer <token>`. */
  metricsToken?: string;
  /** PLUGBOARD_OPERATION_LEASE_MS: an operation whose process died mid-call settles as unknown after this. */
  operationLeaseMs: number;
  /** A sync run's lease on its stream, renewed at every page: a run whose process died is taken over after this. */
  syncLeaseMs: number;
  /** How long an inbound webhook's sync trigger waits, so a burst of events starts one run. */
  syncTriggerDebounceMs: number;
  /**
   * PLUGBOARD_TRUST_PROXY: Express `trust proxy` (false: the socket's address is the client's; a hop
   * count; or the proxies' addresses, CIDR ranges and loopback/linklocal/uniquelocal).
   */
  trustProxy: false | number | string[];
  /** PLUGBOARD_ALLOWED_RETURN_ORIGINS: origins the OAuth callback may redirect to (the server's own is always allowed). */
  allowedReturnOrigins: string[];
  /** Brute-force throttle (runtime/access/auth-throttle.ts, runtime/oauth/callback-throttle.ts). */
  authThrottle: AuthThrottleConfig;
  /**
   * PLUGBOARD_ALLOW_PRIVATE_PROVIDERS: provider servers named in the credentials (CalDAV calendar_url,
   * SMTP host) may be at loopback/private/link-local addresses (self-hosting, tests). Off by default.
   */
  allowPrivateProviders: boolean;
}

export interface AuthThrottleConfig {
  /** PLUGBOARD_AUTH_FAILURES_PER_ADDRESS (default 20). */
  failuresPerAddress: number;
  /** PLUGBOARD_AUTH_FAILURES_PER_CLIENT: per (OAuth client id, address) (default 10). */
  failuresPerClient: number;
  /** PLUGBOARD_AUTH_FAILURE_WINDOW in seconds (default 10m); also the OAuth callback's window. */
  windowSeconds: number;
  /** PLUGBOARD_OAUTH_CALLBACK_FAILURES_PER_ADDRESS: refused OAuth callbacks per address (default 30). */
  callbackFailuresPerAddress: number;
}

/** Reads KEY=VALUE lines of ./.env into process.env without overriding what is already set. */
export function loadDotEnv(file = path.resolve('.env')): void {
  if (!fs.existsSync(file)) return;
  // process.loadEnvFile exists from Node 20.12; it never overrides variables already set.
  (process as unknown as { loadEnvFile(p: string): void }).loadEnvFile(file);
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** One entry of PLUGBOARD_TRUST_PROXY: a name Express knows, an IP address or a CIDR range. */
function isProxyEntry(entry: string): boolean {
  if (PROXY_NAMES.includes(entry)) return true;
  const [ip = '', bits, ...rest] = entry.split('/');
  const family = isIP(ip);
  if (!family || rest.length) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/** PLUGBOARD_TRUST_PROXY: off by default; `true` is refused (any client could choose its address). */
function readTrustProxy(value: string | undefined): false | number | string[] {
  const v = (value ?? '').trim();
  if (v === '' || v === 'false' || v === 'off' || v === '0') return false;
  if (/^\d+$/.test(v)) return Number(v);
  const entries = v.split(',').map((e) => e.trim()).filter(Boolean);
  const bad = entries.filter((e) => !isProxyEntry(e));
  if (bad.length || !entries.length) {
    throw new ConfigError(`PLUGBOARD_TRUST_PROXY must be off, a number of proxy hops (e.g. 1), or a comma-separated list of loopback, linklocal, uniquelocal, IP addresses and CIDR ranges (e.g. 10.0.0.0/8); got "${value}"${v === 'true' ? ' (true would trust every X-Forwarded-For: any client could choose its address)' : ''}`);
  }
  return entries;
}

/** An on/off variable: 1/true/on/yes, 0/false/off/no or unset (off). */
function onOff(env: NodeJS.ProcessEnv, name: string): boolean {
  const v = (env[name] ?? '').trim().toLowerCase();
  if (v === '' || v === '0' || v === 'false' || v === 'off' || v === 'no') return false;
  if (v === '1' || v === 'true' || v === 'on' || v === 'yes') return true;
  throw new ConfigError(`${name} must be 1 (on) or 0 (off), got "${env[name]}"`);
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < 1) throw new ConfigError(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

function readAuthThrottle(env: NodeJS.ProcessEnv): AuthThrottleConfig {
  let windowMs = 600_000;
  if (env.PLUGBOARD_AUTH_FAILURE_WINDOW) {
    try {
      windowMs = parseDuration(env.PLUGBOARD_AUTH_FAILURE_WINDOW);
    } catch (err) {
      throw new ConfigError(`PLUGBOARD_AUTH_FAILURE_WINDOW: ${(err as Error).message}`);
    }
    if (windowMs < 1000 || windowMs % 1000 !== 0) throw new ConfigError(`PLUGBOARD_AUTH_FAILURE_WINDOW must be whole seconds, at least 1s (e.g. 10m), got "${env.PLUGBOARD_AUTH_FAILURE_WINDOW}"`);
  }
  return {
    failuresPerAddress: positiveInt(env, 'PLUGBOARD_AUTH_FAILURES_PER_ADDRESS', 20),
    failuresPerClient: positiveInt(env, 'PLUGBOARD_AUTH_FAILURES_PER_CLIENT', 10),
    windowSeconds: windowMs / 1000,
    callbackFailuresPerAddress: positiveInt(env, 'PLUGBOARD_OAUTH_CALLBACK_FAILURES_PER_ADDRESS', 30),
  };
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = env.PORT === undefined || env.PORT === '' ? 3000 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`PORT must be an integer from 0 to 65535, got "${env.PORT}"`);
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  const logLevel = env.LOG_LEVEL || 'info';
  if (!levels.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${levels.join(', ')}, got "${logLevel}"`);
  const connectorsDir = path.resolve(env.PLUGBOARD_CONNECTORS_DIR || DEFAULT_CONNECTORS_DIR);
  if (!fs.existsSync(connectorsDir)) throw new ConfigError(`PLUGBOARD_CONNECTORS_DIR: directory not found: ${connectorsDir}`);
  const publicUrl = env.PLUGBOARD_PUBLIC_URL || undefined;
  if (publicUrl && !/^https?:\/\//.test(publicUrl)) throw new ConfigError(`PLUGBOARD_PUBLIC_URL must be an http(s) URL, got "${publicUrl}"`);
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith('PLUGBOARD_BASE_URL_') && v && !/^https?:\/\/[^\s]+$/.test(v)) throw new ConfigError(`${k} must be an http(s) URL, got "${v}"`);
  }
  const databaseUrl = env.PLUGBOARD_DATABASE_URL || 'sqlite:./data/plugboard.db';
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl)) throw new ConfigError(`PLUGBOARD_DATABASE_URL must be sqlite:<path> or postgres://..., got "${databaseUrl.replace(/\/\/[^?#]*@/, '//***@')}"`);
  const jobsUrl = env.PLUGBOARD_JOBS_URL || undefined;
  const jobsPollMs = env.PLUGBOARD_JOBS_POLL_MS ? Number(env.PLUGBOARD_JOBS_POLL_MS) : 1000;
  if (!Number.isInteger(jobsPollMs) || jobsPollMs < 10) throw new ConfigError(`PLUGBOARD_JOBS_POLL_MS must be an integer >= 10, got "${env.PLUGBOARD_JOBS_POLL_MS}"`);
  const jobsLockMs = env.PLUGBOARD_JOBS_LOCK_MS ? Number(env.PLUGBOARD_JOBS_LOCK_MS) : 120_000;
  if (!Number.isInteger(jobsLockMs) || jobsLockMs < 100) throw new ConfigError(`PLUGBOARD_JOBS_LOCK_MS must be an integer >= 100, got "${env.PLUGBOARD_JOBS_LOCK_MS}"`);
  const corsOrigins = (env.PLUGBOARD_CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean);
  for (const o of corsOrigins) if (!/^https?:\/\/[^/\s]+$/.test(o)) throw new ConfigError(`PLUGBOARD_CORS_ORIGINS: "${o}" is not an origin like https://studio.example.com`);
  let webhookRetryScheduleMs = parseDurationList(DEFAULT_WEBHOOK_RETRY_SCHEDULE);
  let webhookDisableAfterMs = 24 * 3600_000;
  try {
    if (env.PLUGBOARD_WEBHOOK_RETRY_SCHEDULE) webhookRetryScheduleMs = parseDurationList(env.PLUGBOARD_WEBHOOK_RETRY_SCHEDULE);
  } catch (err) {
    throw new ConfigError(`PLUGBOARD_WEBHOOK_RETRY_SCHEDULE: ${(err as Error).message}`);
  }
  try {
    if (env.PLUGBOARD_WEBHOOK_DISABLE_AFTER) webhookDisableAfterMs = parseDuration(env.PLUGBOARD_WEBHOOK_DISABLE_AFTER);
  } catch (err) {
    throw new ConfigError(`PLUGBOARD_WEBHOOK_DISABLE_AFTER: ${(err as Error).message}`);
  }
  const webhookLeaseMs = env.PLUGBOARD_WEBHOOK_LEASE_MS ? Number(env.PLUGBOARD_WEBHOOK_LEASE_MS) : 60_000;
  if (!Number.isInteger(webhookLeaseMs) || webhookLeaseMs < 100) throw new ConfigError(`PLUGBOARD_WEBHOOK_LEASE_MS must be an integer >= 100, got "${env.PLUGBOARD_WEBHOOK_LEASE_MS}"`);
  const inboundPerSecond = env.PLUGBOARD_INBOUND_RATE_PER_SECOND ? Number(env.PLUGBOARD_INBOUND_RATE_PER_SECOND) : 200;
  if (!Number.isInteger(inboundPerSecond) || inboundPerSecond < 1) throw new ConfigError(`PLUGBOARD_INBOUND_RATE_PER_SECOND must be a positive integer, got "${env.PLUGBOARD_INBOUND_RATE_PER_SECOND}"`);
  const operationLeaseMs = env.PLUGBOARD_OPERATION_LEASE_MS ? Number(env.PLUGBOARD_OPERATION_LEASE_MS) : 60_000;
  if (!Number.isInteger(operationLeaseMs) || operationLeaseMs < 100) throw new ConfigError(`PLUGBOARD_OPERATION_LEASE_MS must be an integer >= 100, got "${env.PLUGBOARD_OPERATION_LEASE_MS}"`);
  const syncLeaseMs = env.PLUGBOARD_SYNC_LEASE_MS ? Number(env.PLUGBOARD_SYNC_LEASE_MS) : 120_000;
  if (!Number.isInteger(syncLeaseMs) || syncLeaseMs < 100) throw new ConfigError(`PLUGBOARD_SYNC_LEASE_MS must be an integer >= 100, got "${env.PLUGBOARD_SYNC_LEASE_MS}"`);
  const syncTriggerDebounceMs = env.PLUGBOARD_SYNC_TRIGGER_DEBOUNCE_MS ? Number(env.PLUGBOARD_SYNC_TRIGGER_DEBOUNCE_MS) : 10_000;
  if (!Number.isInteger(syncTriggerDebounceMs) || syncTriggerDebounceMs < 0) throw new ConfigError(`PLUGBOARD_SYNC_TRIGGER_DEBOUNCE_MS must be an integer >= 0, got "${env.PLUGBOARD_SYNC_TRIGGER_DEBOUNCE_MS}"`);
  const allowedReturnOrigins = (env.PLUGBOARD_ALLOWED_RETURN_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean);
  for (const o of allowedReturnOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(o) || new URL(o).origin !== o.toLowerCase()) throw new ConfigError(`PLUGBOARD_ALLOWED_RETURN_ORIGINS: "${o}" is not an origin like https://app.example.com (scheme and host, no path)`);
  }
  const trustProxy = readTrustProxy(env.PLUGBOARD_TRUST_PROXY);
  const authThrottle = readAuthThrottle(env);
  const metricsToken = env.PLUGBOARD_METRICS_TOKEN || undefined;
  if (metricsToken !== undefined && !/^[\x21-\x7e]{16,}$/.test(metricsToken)) throw new ConfigError('PLUGBOARD_METRICS_TOKEN must be at least 16 printable characters without spaces');
  const allowPrivateProviders = onOff(env, 'PLUGBOARD_ALLOW_PRIVATE_PROVIDERS');
  return { port, host: env.HOST || '127.0.0.1', connectorsDir, logLevel, publicUrl, databaseUrl, jobsUrl, jobsPollMs, jobsLockMs, corsOrigins, webhookRetryScheduleMs, webhookDisableAfterMs, webhookLeaseMs, inboundPerSecond, operationLeaseMs, syncLeaseMs, syncTriggerDebounceMs, trustProxy, metricsToken, allowedReturnOrigins, authThrottle, allowPrivateProviders };
}
