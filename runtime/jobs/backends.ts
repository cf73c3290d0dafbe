// Agenda's PostgreSQL and MongoDB backends, configured from a PLUGBOARD_JOBS_URL (or, for
// PostgreSQL, the application's PLUGBOARD_DATABASE_URL). Building one connects nothing.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { PostgresBackend, type PostgresJobRepository } from '@agendajs/postgres-backend';
import { createRequire } from 'node:module';
import type { MongoBackend } from '@agendajs/mongo-backend';
import { ConfigError } from '../errors/plugboard-error.ts';
import { postgresSettings, type PostgresSettings } from '../store/index.ts';

/** Thrown for an unusable PLUGBOARD_JOBS_URL, or when the jobs backend cannot connect. */
export class JobsConfigError extends ConfigError {}

export function redact(url: string): string {
  return url.replace(/\/\/[^?#]*@/, '//***@');
}

const POSTGRES_IDENTIFIER_BYTES = 63;

/**
 * The LISTEN/NOTIFY channel: channels are per database, not per schema, so deployments (and test
 * runs) in other schemas of the same database must not wake each other. Agenda also listens on
 * `<channel>:state`; PostgreSQL truncates longer names, so a long one is hashed instead.
 */
function channelFor(schema: string | undefined, table: string): string {
  const name = schema ? `${schema}.${table}` : table;
  if (Buffer.byteLength(`${name}:state`) <= POSTGRES_IDENTIFIER_BYTES) return name;
  return `agenda_${createHash('sha256').update(name).digest('hex').slice(0, 32)}`;
}

/**
 * @agendajs/postgres-backend on Plugboard's PostgreSQL settings: the URL's pool_size and
 * statement_timeout (parameters `pg` itself does not know, removed from the URL it gets), and its
 * schema as the search_path, so the jobs table lives beside the store's tables (the schema is
 * created on connect when missing). LISTEN/NOTIFY stays on: a worker hears of a new job at once.
 */
export class PostgresJobsBackend extends PostgresBackend {
  readonly poolConfig: pg.PoolConfig;
  readonly schema: string | undefined;
  readonly tableName: string;
  readonly channelName: string;
  private readonly quietPools = new WeakSet<pg.Pool>();

  constructor(settings: PostgresSettings, tableName = 'agenda_jobs') {
    const poolConfig: pg.PoolConfig = {
      connectionString: settings.connectionString,
      // LISTEN holds one connection for good: at least one more is left for the job queries.
      max: Math.max(settings.poolSize, 2),
      connectionTimeoutMillis: 10_000,
      ...(settings.statementTimeoutMs ? { statement_timeout: settings.statementTimeoutMs } : {}),
      ...(settings.schema ? { options: `-c search_path=${settings.schema}` } : {}),
    };
    const channelName = channelFor(settings.schema, tableName);
    super({ poolConfig, tableName, channelName });
    this.poolConfig = poolConfig;
    this.schema = settings.schema;
    this.tableName = tableName;
    this.channelName = channelName;
    this.quiet();
  }

  /** The pool the backend uses now (Agenda makes a new one when it reconnects after a disconnect). */
  get pool(): pg.Pool {
    return (this.repository as PostgresJobRepository).getPool();
  }

  /** An idle connection's error (a server restart) must not crash the process: the pool replaces it. */
  private quiet(): void {
    const pool = this.pool;
    if (this.quietPools.has(pool)) return;
    pool.on('error', () => undefined);
    this.quietPools.add(pool);
  }

  /**
   * Creates the schema when missing, then lets Agenda create its table, indexes and trigger, under
   * an advisory lock: workers starting together on a new database would otherwise race in
   * CREATE ... IF NOT EXISTS (which is not safe against a concurrent create).
   */
  override async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.poolConfig.connectionString, connectionTimeoutMillis: this.poolConfig.connectionTimeoutMillis });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [`plugboard-agenda:${this.schema ?? ''}.${this.tableName}`]);
      if (this.schema && !(await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [this.schema])).rowCount) {
        // Checked first: CREATE SCHEMA needs a privilege a user of an existing schema may lack.
        await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
      }
      await super.connect();
      this.quiet();
    } finally {
      // Ending the session releases the lock.
      await client.end().catch(() => undefined);
    }
  }
}

export function postgresJobsBackend(url: string, tableName?: string): PostgresJobsBackend {
  let settings: PostgresSettings;
  try {
    settings = postgresSettings(url);
  } catch (err) {
    // The same parameters as PLUGBOARD_DATABASE_URL; name the variable this URL came from.
    throw new JobsConfigError((err as Error).message.replace(/^PLUGBOARD_DATABASE_URL/, 'PLUGBOARD_JOBS_URL'), { cause: err });
  }
  return new PostgresJobsBackend(settings, tableName);
}

/** @agendajs/mongo-backend (connects lazily; `?serverSelectionTimeoutMS=` in the URL bounds a failed connect). */
export interface MongoJobsBackend extends MongoBackend {
  readonly address: string;
  readonly collection: string;
}

type MongoJobsBackendClass = new (address: string, collection: string) => MongoJobsBackend;
let mongoJobsBackendClass: MongoJobsBackendClass | undefined;

/**
 * The MongoDB backend's class, loaded on first use: the package loads the whole MongoDB driver, a
 * large share of a process's start that only a PLUGBOARD_JOBS_URL naming MongoDB needs. require()
 * keeps this synchronous (Node 20.19+ requires ES modules).
 */
function mongoBackendClass(): MongoJobsBackendClass {
  if (mongoJobsBackendClass) return mongoJobsBackendClass;
  const { MongoBackend: Base } = createRequire(import.meta.url)('@agendajs/mongo-backend') as typeof import('@agendajs/mongo-backend');
  mongoJobsBackendClass = class MongoJobsBackend extends Base {
    constructor(
      readonly address: string,
      readonly collection: string,
    ) {
      super({ address, collection });
    }
  };
  return mongoJobsBackendClass;
}

export function mongoJobsBackend(url: string, collection = 'agendaJobs'): MongoJobsBackend {
  // mongodb://[user:pass@]host[:port][,host[:port]...][/db][?options]; +srv: one host name, no port.
  const hosts = /^mongodb(\+srv)?:\/\/(?:[^@/?]*@)?([^/?]*)/i.exec(url);
  const list = (hosts?.[2] ?? '').split(',');
  const srv = !!hosts?.[1];
  if (!hosts || list.some((h) => !/^(\[[0-9a-f:.]+\]|[A-Za-z0-9._%-]+)(:\d{1,5})?$/i.test(h)) || (srv && (list.length !== 1 || list[0]!.includes(':')))) {
    throw new JobsConfigError(`PLUGBOARD_JOBS_URL: "${redact(url)}" is not a MongoDB URL like mongodb://host:27017/agenda or mongodb+srv://cluster.example.net/agenda`);
  }
  return new (mongoBackendClass())(url, collection);
}
