// The typed API client: openapi-fetch over the types openapi-typescript generates from
// schemas/openapi.yaml (`npm run studio:types` writes generated/api/openapi.d.ts), so the studio and the API
// cannot drift. Every request carries the signed-in key; a 401 signs out with the API's message.
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths, components } from './schema';
import { apiKey, signOut } from './session';

export type Provider = components['schemas']['Provider'];
export type Integration = components['schemas']['Integration'];
export type IntegrationStatus = components['schemas']['IntegrationStatus'];

/** The API's error envelope: `{success: false, message, errors: {field: [messages]}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: Record<string, string[]> = {},
    readonly code?: string,
  ) {
    super(message);
  }
}

const auth: Middleware = {
  onRequest({ request }) {
    const key = apiKey();
    if (key) request.headers.set('Authorization', `Bearer ${key}`);
    return request;
  },
  async onResponse({ response }) {
    if (response.status === 401 && apiKey()) {
      const body = (await response.clone().json().catch(() => ({}))) as { message?: string };
      signOut(body.message ? `Signed out: ${body.message}` : 'Signed out: the API key was not accepted.');
    }
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: '/api/v1' });
api.use(auth);

interface Envelope<T> {
  data?: T;
  message?: string;
  errors?: Record<string, string[]>;
  code?: string;
  error?: string;
}

interface Answer {
  data?: unknown;
  error?: unknown;
  response: Response;
}

/** The type of the envelope's `data` that openapi.yaml declares for the call's success answer. */
type DataOf<R> = [R] extends [never] ? never : Exclude<R extends { data?: infer E } ? E : never, undefined> extends { data?: infer D } ? D : unknown;

/**
 * The `data` of a successful answer; anything else throws an ApiError carrying the envelope. Its type
 * is the one openapi.yaml declares for the operation (`unwrap(api.GET(...))`), or the one given.
 */
export function unwrap<R extends Answer>(call: Promise<R>): Promise<DataOf<R>>;
export function unwrap<T>(call: Promise<Answer>): Promise<T>;
export async function unwrap<T>(call: Promise<Answer>): Promise<T> {
  let result;
  try {
    result = await call;
  } catch (err) {
    throw new ApiError(0, `The server could not be reached (${(err as Error).message}).`);
  }
  const { data, error, response } = result;
  if (response.ok) return (data as Envelope<T>).data as T;
  const body = (error ?? {}) as Envelope<T>;
  let message = body.message || `The server answered ${response.status}.`;
  if (response.status === 403) message = `${message} Ask an administrator for a key with that scope, or sign in with another key.`;
  throw new ApiError(response.status, message, body.errors ?? {}, body.code ?? body.error);
}
