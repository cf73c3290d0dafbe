// Request metrics and usage, labelled by route template (never the raw path, so the number of
// series is bounded by the OpenAPI document), and the Prometheus endpoint behind an optional token.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response, NextFunction } from 'express';
import type { Platform } from '../platform/platform.ts';
import { fail } from './envelope.ts';

/** The label of every request no route matched (unknown paths, methods, undecodable URLs). */
export const UNMATCHED_ROUTE = 'unmatched';

declare module 'express-serve-static-core' {
  interface Request {
    /** The OpenAPI path template the request matched, e.g. /api/v1/integrations/{id}. */
    routeTemplate?: string;
  }
}

/** The OpenAPI path template a raw request path has, if any (`{param}` is one path segment). */
export type TemplateMatcher = (path: string) => string | undefined;

/**
 * A matcher over path templates such as /api/v1/integrations/{id}. Literal segments win over
 * parameters (/integrations/connect/{provider} before /integrations/{id}/...). For answers given
 * before the OpenAPI router ran (413, 415, a body that is not JSON): the label is still a template.
 */
export function templateMatcher(templates: readonly string[]): TemplateMatcher {
  const compiled = [...templates]
    .sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))
    .map((t) => ({ t, re: new RegExp(`^${t.split(/\{[^}]*\}/).map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')).join('[^/]+')}/?$`) }));
  return (path) => compiled.find((c) => c.re.test(path))?.t;
}

/** The route label: an OpenAPI template, an Express route of the app itself, or "unmatched". */
export function routeLabel(req: Request, status: number, matchTemplate?: TemplateMatcher): string {
  if (req.routeTemplate) return req.routeTemplate;
  const expressRoute = req.route?.path;
  if (typeof expressRoute === 'string') return expressRoute;
  if (req.baseUrl === '/docs/assets' && status < 400) return '/docs/assets';
  return matchTemplate?.(req.originalUrl.split('?')[0]!) ?? UNMATCHED_ROUTE;
}

/** Counts every request by method, route label and status (and, when authenticated, as usage). */
export function recordRequests(platform: Platform, matchTemplate?: TemplateMatcher) {
  return (req: Request, res: Response, next: NextFunction) => {
    const end = platform.metrics.httpDuration.startTimer();
    const started = performance.now();
    res.on('finish', () => {
      const route = routeLabel(req, res.statusCode, matchTemplate);
      const labels = { method: req.method, route, status: String(res.statusCode) };
      platform.metrics.httpRequests.inc(labels);
      end(labels);
      if (req.principal) platform.usage.record(req.principal.tenantId, req.principal.actor, `${req.method} ${route}`, res.statusCode, performance.now() - started);
    });
    next();
  };
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * GET /metrics: Prometheus text; with PLUGBOARD_METRICS_TOKEN set, only for `Authorization: Bearer
 * <token>`. A wrong token is a guess, throttled per address like API keys (the right one always passes).
 */
export function metricsEndpoint(platform: Platform) {
  const expected = platform.config.metricsToken ? digest(platform.config.metricsToken) : undefined;
  return async (req: Request, res: Response) => {
    if (expected) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers['authorization'] ?? '');
      if (!m || !timingSafeEqual(digest(m[1]!), expected)) {
        const wait = m ? await platform.authThrottle.failed(req.ip) : undefined;
        if (wait !== undefined) {
          res.setHeader('Retry-After', String(wait));
          return res.status(429).json(fail(`Too many failed authentications from this address; retry in ${wait} s.`, undefined, 'auth_throttled'));
        }
        res.setHeader('WWW-Authenticate', 'Bearer realm="plugboard-metrics"');
        return res.status(401).json(fail('Missing or invalid metrics token.', undefined, 'unauthenticated'));
      }
    }
    try {
      platform.metrics.jobQueueDepth.set(await platform.jobsQueueDepth());
    } catch {
      /* reported by /readyz */
    }
    res.setHeader('Content-Type', platform.metrics.registry.contentType);
    res.send(await platform.metrics.registry.metrics());
  };
}
