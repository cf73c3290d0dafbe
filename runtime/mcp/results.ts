// What the MCP server answers: tool results (structured content plus the same JSON as text), tool
// errors in the Plugboard error envelope, and JSON-RPC errors with a Plugboard code in `data`.
import type { Response } from 'express';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { PlugboardError } from '../errors/plugboard-error.ts';
import { fail } from '../api/envelope.ts';

/** JSON-RPC error codes of Plugboard's own refusals (the implementation-defined server range). */
export const RPC = {
  unauthenticated: -32011,
  insufficientScope: -32003,
  rateLimited: -32029,
  methodNotAllowed: -32000,
  // JSON-RPC 2.0's own codes (the SDK's ErrorCode values; written out so this file loads without it).
  parse: -32700,
  invalidRequest: -32600,
  invalidParams: -32602,
  internal: -32603,
} as const;

/** A tool's answer: the body as structured content and as JSON text (for clients without structured content). */
export function toolResult(body: Record<string, unknown>, isError = false, meta?: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(body) }], structuredContent: body, ...(isError ? { isError: true } : {}), ...(meta ? { _meta: meta } : {}) };
}

/**
 * A refusal the caller (or its model) can act on, as the REST API words it: validation, conflict
 * (no_active_provider, operation_in_progress), an unavailable dependency, a provider failure.
 */
export function errorResult(err: PlugboardError): CallToolResult {
  const body: Record<string, unknown> = fail(err.message, err.errors, err.code ?? err.kind);
  if (err.retryAfter !== undefined) body['retry_after'] = Math.max(1, Math.ceil(err.retryAfter));
  return toolResult(body, true);
}

/** A JSON-RPC error answered at the HTTP level (before or instead of the MCP server): id null. */
export function sendRpcError(res: Response, status: number, code: number, message: string, data?: Record<string, unknown>): void {
  res.status(status).json({ jsonrpc: '2.0', error: { code, message, ...(data ? { data } : {}) }, id: null });
}
