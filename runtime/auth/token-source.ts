// Where the engine gets the access token of an oauth2_authorization_code integration. The engine never
// reads the store: the runtime (runtime/oauth) implements TokenSource over the sealed token row, with
// refresh ahead of expiry and single-flight refresh; CLI runs, offline examples and contract tests use a
// static token.
import { EngineError, failure } from '../http/errors.ts';
import { TransportError } from '../http/transport.ts';
import { PlugboardError } from '../errors/plugboard-error.ts';

export interface TokenSource {
  /** A valid access token (refreshing first if it expires within the margin). */
  accessToken(): Promise<string>;
  /** Called once after the provider answered 401 to `rejected`: refresh (single-flight) and return the new token.
   *  Returning `rejected` itself means there is nothing newer: the engine does not retry. */
  refreshAfterRejection(rejected: string): Promise<string>;
}

/** A fixed token (CLI `run`, offline examples, contract tests): it cannot be refreshed. */
export class StaticTokenSource implements TokenSource {
  constructor(private readonly token: string) {}
  async accessToken(): Promise<string> {
    return this.token;
  }
  async refreshAfterRejection(rejected: string): Promise<string> {
    return rejected;
  }
}

/**
 * Runs a token-source call and makes any failure an EngineError: a typed EngineError passes through,
 * a transport failure is network_error/timeout, a PlugboardError keeps its message as invalid_credentials
 * (the grant cannot be used), anything else is an internal error. The engine redacts tokens from all of them.
 */
export async function fromTokenSource(call: () => Promise<string>): Promise<string> {
  let token: string;
  try {
    token = await call();
  } catch (err) {
    if (err instanceof EngineError) throw err;
    if (err instanceof TransportError) {
      throw new EngineError(err.reason === 'timeout' ? failure('timeout', `the token endpoint did not answer: ${err.message}`) : failure('network_error', `cannot reach the token endpoint: ${err.message}`));
    }
    if (err instanceof PlugboardError) throw new EngineError(failure('invalid_credentials', `cannot get an OAuth access token: ${err.message}`, { retryable: false }));
    throw new EngineError(failure('unsupported', `internal error while getting the OAuth access token: ${(err as Error)?.message ?? String(err)}`, { retryable: false }));
  }
  if (typeof token !== 'string' || token === '') {
    throw new EngineError(failure('invalid_credentials', 'this integration has no OAuth access token: connect it again', { retryable: false }));
  }
  return token;
}
