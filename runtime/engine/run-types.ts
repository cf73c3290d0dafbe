// What a caller gives the engine for one call (a capability, verify or a stream) and what it learns about it.
import type { TokenSource } from '../auth/token-source.ts';

export interface IntegrationRef {
  id?: string;
  environment?: string;
  metadata?: Record<string, unknown>;
}

export interface RunOptions {
  credentials: Record<string, unknown>;
  input?: Record<string, unknown>;
  integration?: IntegrationRef;
  /** Overrides the manifest's base URL (dry runs, tests, PLUGBOARD_BASE_URL_<PROVIDER>). */
  baseUrl?: string;
  /** oauth2_authorization_code: the integration's tokens (refreshed by the runtime). Without one the
   *  engine uses credentials.access_token as a static token (CLI run, offline examples, contract tests). */
  tokenSource?: TokenSource;
  /** oauth2_authorization_code: what the token response mapped into the integration; templates,
   *  expressions and a templated base_url read it as connection.*. */
  connection?: Record<string, unknown>;
}

export interface RunMeta {
  attempts: number;
  duration_ms: number;
  status?: number;
  request_id?: string;
}
