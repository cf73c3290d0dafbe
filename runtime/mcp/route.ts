// POST /mcp: the MCP server over stateless Streamable HTTP (JSON responses, no session), so it works
// behind several API processes. The same authentication, rate limits and usage as the REST API: an
// API key or OAuth access token as `Authorization: Bearer` (or `X-API-Key`), one request of the
// budget per HTTP request. Everything a client gets wrong is a JSON-RPC error, never a 500.
import express, { type Request, type Response, type NextFunction, type Router } from 'express';
import cors from 'cors';
import type { Platform } from '../platform/platform.ts';
import type { Principal } from '../access/api-keys.ts';
import { authenticatePresented, presentedKey } from '../api/authentication.ts';
import { MAX_JSON_DEPTH, tooDeepField } from '../api/request-input.ts';
import { buildMcpServer, type McpContext } from './server.ts';
import { loadMcpSdk } from './sdk.ts';
import { readTools } from './read-tools.ts';
import { RPC, sendRpcError } from './results.ts';

export const MCP_PATH = '/mcp';
/** The REST API's body limit. */
const MAX_BODY = '1mb';

/**
 * A browser page may call only from an origin the operator configured (PLUGBOARD_CORS_ORIGINS, the
 * public URL): the MCP transport's guard against DNS rebinding, so never the request's own Host
 * header (a rebound name sends its own host there). Clients outside browsers send no Origin.
 */
function originAllowed(platform: Platform, req: Request): boolean {
  const origin = req.headers['origin'];
  if (!origin) return true;
  const publicOrigin = platform.config.publicUrl ? new URL(platform.config.publicUrl).origin : undefined;
  return [...platform.config.corsOrigins, publicOrigin].includes(origin);
}

/** Authenticates and counts the request against the tenant's and the credential's budgets; a failure of either is a JSON-RPC error. */
function authenticate(platform: Platform) {
  const check = checkAccess(platform);
  return async (req: Request, res: Response, next: NextFunction) => {
    req.routeTemplate = MCP_PATH;
    try {
      await check(req, res, next);
    } catch (err) {
      (req.log ?? platform.logger).error({ err }, 'MCP authentication failed');
      if (!res.headersSent) sendRpcError(res, 500, RPC.internal, 'Internal error.');
    }
  };
}

function checkAccess(platform: Platform) {
  return async (req: Request, res: Response, next: NextFunction) => {
    if (!originAllowed(platform, req)) return sendRpcError(res, 403, RPC.invalidRequest, 'This origin may not call the MCP server.', { code: 'origin_not_allowed' });
    const presented = presentedKey(req);
    let principal: Principal | undefined;
    if (presented) {
      const r = await authenticatePresented(platform, presented, req.ip);
      if (r.retryAfter !== undefined) {
        res.setHeader('Retry-After', String(r.retryAfter));
        return sendRpcError(res, 429, RPC.rateLimited, `Too many failed authentications from this address; retry in ${r.retryAfter} s.`, { code: 'auth_throttled' });
      }
      principal = r.principal;
    }
    if (!principal) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="plugboard"');
      return sendRpcError(res, 401, RPC.unauthenticated, 'Missing or invalid API key.', { code: 'unauthenticated' });
    }
    const decision = await platform.rateLimiter.consume(principal.tenantId, principal.credentialId);
    res.setHeader('X-RateLimit-Limit', String(decision.limit));
    res.setHeader('X-RateLimit-Remaining', String(decision.remaining));
    res.setHeader('X-RateLimit-Reset', String(decision.resetSeconds));
    // Usage counts every authenticated request, allowed or not (recordRequests reads req.principal).
    req.principal = principal;
    if (!decision.allowed) {
      res.setHeader('Retry-After', String(decision.retryAfterSeconds));
      return sendRpcError(res, 429, RPC.rateLimited, `Rate limit exceeded; retry in ${decision.retryAfterSeconds} s.`, { code: 'rate_limited' });
    }
    if (principal.kind === 'api_key') platform.lastUsed.used(principal.credentialId);
    next();
  };
}

/** One JSON-RPC message per HTTP request (no batches: one request of the budget is one call), bounded in depth. */
function checkMessage(req: Request, res: Response, next: NextFunction) {
  if (!req.is('application/json')) return sendRpcError(res, 415, RPC.invalidRequest, 'Unsupported Media Type: Content-Type must be application/json.', { code: 'unsupported_media_type' });
  if (Array.isArray(req.body)) return sendRpcError(res, 400, RPC.invalidRequest, 'Invalid Request: JSON-RPC batches are not supported; send one message per request.');
  if (!req.body || typeof req.body !== 'object') return sendRpcError(res, 400, RPC.invalidRequest, 'Invalid Request: the body must be one JSON-RPC message (an object).');
  // The arguments sit one level below where POST /operations has its input: the same depth for them.
  const deep = tooDeepField(req.body, MAX_JSON_DEPTH + 1);
  if (deep !== undefined) return sendRpcError(res, 400, RPC.invalidRequest, `Invalid Request: "${deep}" nests deeper than ${MAX_JSON_DEPTH} levels.`);
  next();
}

/** A body that does not parse, is too large or is not readable: the client's JSON-RPC error. */
function bodyError(err: Error & { status?: number; type?: string }, _req: Request, res: Response, next: NextFunction) {
  const status = Number(err.status);
  if (!(status >= 400 && status < 500)) return next(err);
  if (err.type === 'entity.too.large') return sendRpcError(res, 413, RPC.invalidRequest, `Request body too large (limit ${MAX_BODY.toUpperCase()}).`, { code: 'too_large' });
  if (err.type === 'entity.parse.failed') return sendRpcError(res, 400, RPC.parse, 'Parse error: the body is not valid JSON.');
  return sendRpcError(res, status, RPC.invalidRequest, 'The request body could not be read.');
}

export function mcpRoutes(platform: Platform, definition: Record<string, any>): Router {
  const router = express.Router();
  const tools = readTools(definition);
  const version = String(definition['info']?.['version'] ?? '0');
  if (platform.config.corsOrigins.length) {
    router.use(MCP_PATH, cors({ origin: platform.config.corsOrigins, allowedHeaders: ['Authorization', 'X-API-Key', 'Content-Type', 'Accept', 'Mcp-Protocol-Version', 'Last-Event-ID'], exposedHeaders: ['X-Request-Id', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'Retry-After'] }));
  }
  router.post(MCP_PATH, authenticate(platform), express.json({ limit: MAX_BODY, strict: false }), checkMessage, async (req: Request, res: Response) => {
    const ctx: McpContext = { platform, principal: req.principal!, requestId: String(req.id), readTools: tools, version };
    try {
      const sdk = await loadMcpSdk();
      const server = buildMcpServer(ctx, sdk);
      const transport = new sdk.StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (err) {
      (req.log ?? platform.logger).error({ err }, 'MCP request failed');
      if (!res.headersSent) sendRpcError(res, 500, RPC.internal, 'Internal error.');
    }
  });
  // Stateless: no server-initiated stream to open (GET) and no session to end (DELETE).
  router.all(MCP_PATH, (req: Request, res: Response) => {
    req.routeTemplate = MCP_PATH;
    res.setHeader('Allow', 'POST');
    sendRpcError(res, 405, RPC.methodNotAllowed, 'Method not allowed: this MCP server is stateless; POST one JSON-RPC message per request.');
  });
  router.use(MCP_PATH, bodyError);
  return router;
}
