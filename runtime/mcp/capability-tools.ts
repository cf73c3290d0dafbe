// One tool per capability the tenant can run now (an active integration offers and enables it), its
// input schema the capability's; calling it is POST /operations/{capability} through the same
// OperationService: routing, fallback, idempotency, delivery tracking, events, write-back.
import type { Tool, CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Platform } from '../platform/platform.ts';
import type { IntegrationRow } from '../store/types.ts';
import { invalid, PlugboardError } from '../errors/plugboard-error.ts';
import { operationResponse } from '../api/handlers/operations.ts';
import { errorResult, toolResult } from './results.ts';

/** `_meta` keys of a tools/call that carry what POST /operations takes beside `input`. */
export const META = {
  idempotencyKey: 'plugboard/idempotency_key',
  integrationId: 'plugboard/integration_id',
  replayed: 'plugboard/idempotent_replayed',
  providers: 'plugboard/providers',
} as const;

const ID = /^[0-9a-hjkmnp-tv-z]{26}$/;

/** The tools of the capabilities `available` lists (RoutingService.available), by name. */
export function capabilityTools(platform: Platform, available: Map<string, IntegrationRow[]>): Tool[] {
  const tools: Tool[] = [];
  for (const [name, rows] of [...available].sort(([a], [b]) => a.localeCompare(b))) {
    const capability = platform.connectors.get(rows[0]!.provider)?.capabilities.get(name);
    if (!capability) continue;
    const schema = capability.schema;
    tools.push({
      name,
      title: schema.title && schema.title !== name ? schema.title : name.replace(/_/g, ' '),
      description: schema.description || capability.description,
      inputSchema: schema.input as Tool['inputSchema'],
      // It acts on the outside world (a message sent, a payment started); retries need an idempotency key.
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
      _meta: { [META.providers]: [...new Set(rows.map((r) => r.provider))] },
    });
  }
  return tools;
}

/** `_meta` options of a call, checked as POST /operations checks its body fields. */
function operationOptions(meta: Record<string, unknown> | undefined): { integration_id?: string; idempotency_key?: string } | PlugboardError {
  const key = meta?.[META.idempotencyKey];
  const integration = meta?.[META.integrationId];
  const errors: Record<string, string[]> = {};
  if (key !== undefined && (typeof key !== 'string' || key.length < 1 || key.length > 255)) errors[`_meta.${META.idempotencyKey}`] = ['must be a string of 1 to 255 characters'];
  if (integration !== undefined && (typeof integration !== 'string' || !ID.test(integration))) errors[`_meta.${META.integrationId}`] = ['must be an integration id (a lower-case ULID)'];
  if (Object.keys(errors).length) return invalid(errors);
  return { ...(typeof integration === 'string' ? { integration_id: integration } : {}), ...(typeof key === 'string' ? { idempotency_key: key } : {}) };
}

/**
 * Runs a capability for the tenant. A provider failure, an outcome unknown, invalid input or no
 * active integration is a tool error (isError) carrying the REST API's envelope and code.
 */
export async function runCapability(platform: Platform, tenantId: string, capability: string, args: Record<string, unknown>, meta: Record<string, unknown> | undefined, requestId: string): Promise<CallToolResult> {
  const options = operationOptions(meta);
  if (options instanceof PlugboardError) return errorResult(options);
  try {
    const out = await platform.operations.run(tenantId, capability, { input: args, ...options }, requestId);
    const { status, body } = operationResponse(out);
    return toolResult(body, status !== 200, out.replayed ? { [META.replayed]: true } : undefined);
  } catch (err) {
    if (err instanceof PlugboardError && err.kind !== 'internal' && err.kind !== 'config') return errorResult(err);
    throw err;
  }
}
