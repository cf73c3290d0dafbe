// The raw manifest, as written in YAML and described by schemas/manifest.schema.json.

export type AuthType =
  | 'api_key'
  | 'basic'
  | 'bearer'
  | 'oauth2_authorization_code'
  | 'oauth2_client_credentials'
  | 'smtp'
  | 'none';

export type BodyFormat = 'json' | 'form' | 'xml' | 'text' | 'multipart' | 'multipart_related';
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'PROPFIND' | 'REPORT';

export interface AuthSpec {
  type: AuthType;
  in?: 'header' | 'query';
  name?: string;
  value?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  username?: string;
  password?: string;
  token?: string;
  scheme?: string;
  authorization_url?: string;
  token_url?: string;
  /** oauth2_authorization_code: RFC 7009 endpoint called on disconnect. */
  revocation_url?: string;
  scopes?: string[];
  /** oauth2_authorization_code: joins scopes in the authorize request (default " "). */
  scope_separator?: string;
  pkce?: boolean;
  client_id?: string;
  client_secret?: string;
  client_auth?: 'basic' | 'body';
  audience?: string;
  extra_authorize_params?: Record<string, string>;
  /** oauth2_authorization_code: read after the code exchange; its answer is `userinfo` in the connection mapping. */
  userinfo_url?: string;
  /** oauth2_authorization_code: JSONata over the token response giving the connection object. */
  connection?: string;
  host?: string;
  port?: number | string;
  secure?: boolean;
  /** smtp: starttls | tls | none, or a template rendering one. */
  security?: string;
  reject_unauthorized?: boolean | string;
  max_connections?: number;
}

export interface CredentialField {
  type: 'string' | 'integer' | 'number' | 'boolean';
  sensitive: boolean;
  required: boolean;
  title?: string;
  description?: string;
  pattern?: string;
  format?: string;
  enum?: Array<string | number | boolean>;
  default?: string | number | boolean;
}

export interface RequestSpec {
  method: HttpMethod;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body_format?: BodyFormat;
  form_arrays?: 'indexed' | 'brackets' | 'repeat';
  body?: string;
}

export interface ErrorsSpec {
  when?: string;
  message?: string;
  code?: string;
}

/** A base URL, or one with the OAuth hosts of that environment (DESIGN §10). */
export type EnvironmentSpec = string | { base_url: string; authorization_url?: string; token_url?: string };

export interface ExampleSpec {
  name: string;
  /** oauth2_authorization_code examples may also give access_token (default: example-access-token). */
  credentials?: Record<string, unknown>;
  /** oauth2_authorization_code: what connection.* reads in this example. */
  connection?: Record<string, unknown>;
  input: Record<string, unknown>;
  request?: { method?: string; path?: string; query?: Record<string, unknown>; headers?: Record<string, unknown>; body?: unknown };
  response: { status: number; headers?: Record<string, string>; body?: unknown };
  /** oauth2_client_credentials: the token endpoint's answer (default: 200 with an access token). */
  token_response?: { status: number; headers?: Record<string, string>; body?: unknown };
  output?: unknown;
  error?: { type: string; status?: number; message?: string };
  /** smtp capabilities: expected parts of the message smtp.message gives. */
  message?: Record<string, unknown>;
}

export interface CapabilitySpec {
  description?: string;
  /** Custom capabilities only: JSON Schemas of input and output (standard ones come from schemas/capabilities/). */
  input?: Record<string, unknown>;
  output?: Record<string, unknown>;
  /** HTTP capabilities; smtp connectors give `smtp` instead. */
  request?: RequestSpec;
  /** smtp auth: JSONata giving the message to send. */
  smtp?: { message: string };
  response: string;
  errors?: ErrorsSpec;
  timeout_ms?: number;
  /** Write-back into a stream's records on success. */
  record?: { stream: string; mapping: string; update_only?: boolean };
  examples?: ExampleSpec[];
}

export interface RetrySpec {
  on_status?: number[];
  max_attempts?: number;
  respect_retry_after?: boolean;
  initial_delay_ms?: number;
  max_delay_ms?: number;
  on_timeout?: boolean;
}

export interface RateLimitSpec {
  requests_per_second?: number;
  requests_per_minute?: number;
  max_queue?: number;
}

/** One pagination kind per `type`, each with its own keys (schemas/manifest.schema.json pagination_*). */
export type PaginationSpec = { max_pages?: number } & (
  | { type: 'none' }
  | { type: 'cursor'; next: string; param: string; page_size?: number; page_size_param?: string; in?: 'query' | 'body' }
  | { type: 'page'; param: string; page_size?: number; page_size_param?: string; start?: number; in?: 'query' | 'body' }
  | { type: 'offset'; param: string; page_size: number; page_size_param?: string; in?: 'query' | 'body' }
  | { type: 'link_header' }
  | { type: 'next_url'; next: string }
);

export interface StreamSpec {
  description?: string;
  /** One of schemas/models/*.json. */
  model: string;
  request: RequestSpec;
  records: string;
  mapping?: string;
  primary_key?: string;
  cursor?: { field: string; param?: string; header?: string };
  pagination?: PaginationSpec;
  schedule?: string;
  /** Recorded pages (cited by `source`) that `plugboard contract` answers the stream's requests with. */
  examples?: StreamExampleSpec[];
}

export interface StreamExampleSpec {
  name: string;
  /** The documentation page the response was recorded from. */
  source?: string;
  response: { status: number; headers?: Record<string, string>; body?: unknown };
  /** The mapped records the page must give (compared exactly). */
  records?: Array<Record<string, unknown>>;
}

export interface WebhooksSpec {
  signature: { scheme: string; secret?: string; header?: string; prefix?: string; encoding?: string; tolerance_seconds?: number; digest?: 'hmac' | 'sha256_secret_body' };
  handshake?: { when: string; response: string };
  event_id?: string;
  event_type?: string;
  events?: Record<string, { type?: string; data?: string; triggers?: string }>;
}

export interface Manifest {
  schema_version: 1;
  name: string;
  display_name: string;
  description?: string;
  category: string;
  docs_url?: string;
  /** An absolute URL, or a template reading connection.* (oauth2_authorization_code). */
  base_url?: string;
  environments?: Record<string, EnvironmentSpec>;
  auth: AuthSpec;
  credential_schema: Record<string, CredentialField>;
  verify?: { request?: RequestSpec; success?: string; smtp?: true };
  capabilities: Record<string, CapabilitySpec>;
  errors?: ErrorsSpec;
  timeout_ms?: number;
  rate_limit?: RateLimitSpec;
  retry?: RetrySpec;
  streams?: Record<string, StreamSpec>;
  webhooks?: WebhooksSpec;
}
