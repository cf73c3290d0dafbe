// The read-only tools (scope `read`): the tenant's integrations and its recent operation deliveries,
// through the same services and views as GET /integrations and GET /deliveries. Their arguments are
// those operations' query parameters, taken from schemas/openapi.yaml so the two cannot drift.
import type { Tool, CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Platform } from '../platform/platform.ts';
import type { IntegrationStatus } from '../store/types.ts';
import { ajv, fieldErrors, lazyValidator, type ValidateFunction } from '../manifest/ajv.ts';
import { invalid } from '../errors/plugboard-error.ts';
import { deliveryView } from '../api/handlers/operations.ts';
import { errorResult, toolResult } from './results.ts';

type Args = Record<string, unknown>;

interface ReadTool {
  tool: Tool;
  validate: ValidateFunction;
  run(platform: Platform, tenantId: string, args: Args, page: { page: number; perPage: number }): Promise<{ items: unknown[]; total: number }>;
}

/** A local `$ref` (#/components/...) of the OpenAPI document, inlined (the tool's schema stands alone). */
function inline(definition: Record<string, any>, node: unknown): unknown {
  if (Array.isArray(node)) return node.map((n) => inline(definition, n));
  if (!node || typeof node !== 'object') return node;
  const ref = (node as { $ref?: unknown }).$ref;
  if (typeof ref === 'string' && ref.startsWith('#/')) {
    const target = ref.slice(2).split('/').reduce<any>((v, k) => v?.[k], definition);
    return inline(definition, target);
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, inline(definition, v)]));
}

/** The query parameters of an OpenAPI operation as one object schema (no other property allowed). */
export function queryArguments(definition: Record<string, any>, operationId: string): Tool['inputSchema'] {
  for (const item of Object.values<Record<string, any>>(definition['paths'])) {
    for (const op of Object.values<Record<string, any>>(item)) {
      if (op?.['operationId'] !== operationId) continue;
      const params = (inline(definition, op['parameters'] ?? []) as Array<{ name: string; in: string; description?: string; schema: Record<string, unknown> }>).filter((p) => p.in === 'query');
      const properties = Object.fromEntries(params.map((p) => [p.name, { ...p.schema, ...(p.description ? { description: p.description } : {}) }]));
      return { type: 'object', additionalProperties: false, properties };
    }
  }
  throw new Error(`schemas/openapi.yaml has no operation ${operationId}`);
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

export function readTools(definition: Record<string, any>): Map<string, ReadTool> {
  const make = (name: string, operationId: string, description: string, run: ReadTool['run']): [string, ReadTool] => {
    const inputSchema = queryArguments(definition, operationId);
    const tool: Tool = { name, title: description.split(':')[0], description, inputSchema, annotations: { readOnlyHint: true, openWorldHint: false } };
    return [name, { tool, validate: lazyValidator(() => ajv.compile(inputSchema)), run }];
  };
  return new Map([
    make('list_integrations', 'listIntegrations', 'List integrations: the providers this tenant connected, with status (active, pending_verify, inactive, error), enabled capabilities and non-secret settings. Same as GET /api/v1/integrations.', (platform, tenantId, a, page) =>
      platform.integrations.list(tenantId, { ...page, status: str(a['status']) as IntegrationStatus | undefined, category: str(a['category']) })),
    make('list_deliveries', 'listDeliveries', 'List recent deliveries: every provider attempt of every operation, newest first (integration, capability, status, provider status code, duration, error). Same as GET /api/v1/deliveries.', async (platform, tenantId, a, page) => {
      const r = await platform.operations.deliveries(tenantId, { ...page, integration_id: str(a['integration_id']), capability: str(a['capability']), status: str(a['status']), operation_id: str(a['operation_id']) });
      return { items: r.items.map(deliveryView), total: r.total };
    }),
  ]);
}

/** Runs a read tool: its arguments checked like the REST query, its answer the list envelope without links. */
export async function runReadTool(platform: Platform, tenantId: string, t: ReadTool, args: Args): Promise<CallToolResult> {
  if (!t.validate(args)) return errorResult(invalid(fieldErrors(t.validate.errors)));
  const page = { page: Number(args['page'] ?? 1), perPage: Number(args['per_page'] ?? 25) };
  const r = await t.run(platform, tenantId, args, page);
  return toolResult({ success: true, message: 'OK', data: r.items, meta: { current_page: page.page, per_page: page.perPage, total: r.total, last_page: Math.max(1, Math.ceil(r.total / page.perPage)) } });
}
