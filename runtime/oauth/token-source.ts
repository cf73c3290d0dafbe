// The engine's TokenSource (runtime/auth/token-source.ts) for one OAuth integration: the engine
// asks for a token per request and, once after a provider 401, for a refreshed one.
import type { TokenSource } from '../auth/token-source.ts';
import type { IntegrationRow } from '../store/types.ts';
import type { OAuthTokens } from './tokens.ts';

export class IntegrationTokenSource implements TokenSource {
  constructor(private readonly tokens: OAuthTokens, private readonly row: IntegrationRow) {}

  accessToken(): Promise<string> {
    return this.tokens.accessToken(this.row);
  }

  refreshAfterRejection(rejected: string): Promise<string> {
    return this.tokens.refresh(this.row, rejected);
  }
}
