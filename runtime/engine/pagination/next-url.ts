// pagination: next_url — the body names the next page's URL (JSONata `next`): absolute, or
// root-relative and resolved against the base URL (Twilio next_page_uri, Salesforce nextRecordsUrl).
// `$url` is the URL of the page (QuickBooks pages by rewriting STARTPOSITION inside its query).
// It must stay on the provider's origin: the engine sends the integration's credentials with it.
import type { CompiledExpression } from '../../lang/expressions.ts';
import { sameOrigin, tokenOf, type Paginator } from './paginator.ts';

export function nextUrlPaginator(stream: string, baseUrl: string, next: CompiledExpression): Paginator {
  return {
    first: () => ({}),
    async next(page) {
      const raw = tokenOf(await next.evaluate(page.body, { status: page.status, headers: page.headers, url: page.url }));
      return raw === undefined ? undefined : { url: sameOrigin(stream, raw, baseUrl, 'the next page URL') };
    },
  };
}
