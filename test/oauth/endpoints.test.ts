// OAuth endpoint precedence (DESIGN §10): the PLUGBOARD_OAUTH_<PROVIDER>_* overrides replace every
// host a connection talks to, revocation included, so a test or proxy setup never reaches the real
// provider on DELETE.
import { expect, it } from 'vitest';
import { loadNamedConnectors } from '../../runtime/manifest/registry.ts';
import { DEFAULT_CONNECTORS_DIR } from '../../runtime/config/paths.ts';
import { resolveEndpoints } from '../../runtime/oauth/endpoints.ts';

const google = loadNamedConnectors(DEFAULT_CONNECTORS_DIR, ['google_calendar']).connectors.get('google_calendar')!;
const base = { credentials: {}, environment: null, baseUrl: 'https://www.googleapis.com' };

it('uses the manifest\'s revocation URL by default and PLUGBOARD_OAUTH_<PROVIDER>_REVOCATION_URL when set', () => {
  expect(resolveEndpoints(google, { ...base, env: {} }).revocationUrl).toBe('https://oauth2.googleapis.com/revoke');
  const env = {
    PLUGBOARD_OAUTH_GOOGLE_CALENDAR_AUTHORIZATION_URL: 'http://127.0.0.1:4100/authorize',
    PLUGBOARD_OAUTH_GOOGLE_CALENDAR_TOKEN_URL: 'http://127.0.0.1:4100/token',
    PLUGBOARD_OAUTH_GOOGLE_CALENDAR_REVOCATION_URL: 'http://127.0.0.1:4100/revoke',
  };
  const e = resolveEndpoints(google, { ...base, env });
  expect([e.authorizationUrl, e.tokenUrl, e.revocationUrl]).toEqual(['http://127.0.0.1:4100/authorize', 'http://127.0.0.1:4100/token', 'http://127.0.0.1:4100/revoke']);
});
