// OAuth connect and callback: translate HTTP to OAuthConnections and back. The callback answers a
// browser, so it always redirects or shows a small page, never a JSON error or a stack trace.
import type { Response } from 'express';
import type { ApiHandler } from '../handler.ts';
import { ok } from '../envelope.ts';
import type { CallbackOutcome } from '../../oauth/service.ts';

const escape = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function page(res: Response, o: CallbackOutcome): void {
  const title = o.error ? `Connecting ${o.provider} failed` : `${o.provider} is connected`;
  const body = o.error
    ? `<p>${escape(o.error.description)}</p><p>Error code: <code>${escape(o.error.code)}</code></p>`
    : `<p>Integration <code>${escape(o.integrationId ?? '')}</code> is ${escape(o.status ?? '')}. You can close this window.</p>`;
  if (o.retryAfter) res.set('Retry-After', String(o.retryAfter));
  res.status(o.retryAfter ? 429 : o.error ? 400 : 200).type('html').set('Cache-Control', 'no-store')
    .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1>${body}</body></html>`);
}

export const connectHandlers: Record<string, ApiHandler> = {
  async connectIntegration(c, h, _req, res) {
    const q = c.request.query as Record<string, string | undefined>;
    const provider = c.request.params['provider'] as string;
    const data = await h.platform.connections.connect(h, provider, q['return_to']);
    res.set('Cache-Control', 'no-store').json(ok(data, 'Open authorization_url in the browser to connect.'));
  },
  async integrationCallback(c, h, req, res) {
    const provider = c.request.params['provider'] as string;
    const query = new URL(req.originalUrl, 'http://callback.invalid').searchParams;
    let outcome: CallbackOutcome;
    try {
      outcome = await h.platform.connections.callback(provider, query, { requestId: h.requestId, address: req.ip });
    } catch (err) {
      // A browser lands here: a failure (store down...) is logged and answered as a page, never a 500 body.
      req.log.error({ err }, 'oauth callback failed');
      outcome = { redirect: null, provider, error: { code: 'server_error', description: 'Connecting failed on Plugboard\'s side; try again later.' } };
    }
    if (outcome.redirect) return res.set('Cache-Control', 'no-store').redirect(302, outcome.redirect);
    page(res, outcome);
  },
};

/** The callback's query failed request validation (a repeated state, state[]=...): a page, never JSON. */
export const malformedCallback: ApiHandler = async (c, h, req, res) => {
  const provider = String(c.request.params['provider'] ?? '');
  page(res, await h.platform.connections.malformedCallback(provider, { address: req.ip }));
};
