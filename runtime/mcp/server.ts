// The MCP server of one authenticated request (stateless: built per HTTP request, so any API process
// can answer any request). Tools by scope: `write` sees one tool per capability the tenant can run,
// `read` the list tools; a call without the scope is a JSON-RPC error naming insufficient_scope.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { McpSdk } from './sdk.ts';
import type { Platform } from '../platform/platform.ts';
import type { Principal } from '../access/api-keys.ts';
import { hasScope } from '../api/authentication.ts';
import { capabilityTools, runCapability, META } from './capability-tools.ts';
import { readTools, runReadTool } from './read-tools.ts';
import { RPC } from './results.ts';

const INSTRUCTIONS = [
  "Plugboard runs standard capabilities (send_sms, send_email, create_contact, ...) through this tenant's connected providers, with its routing rules and fallback.",
  'Each capability tool acts on the outside world: to retry one safely, pass the same idempotency key in the call\'s _meta as "' + META.idempotencyKey + '" (and "' + META.integrationId + '" to pick an integration).',
  'A failed call answers isError with the REST API\'s error envelope (code, message). list_deliveries shows every provider attempt.',
].join(' ');

export interface McpContext {
  platform: Platform;
  principal: Principal;
  requestId: string;
  /** The read tools, built once per app from schemas/openapi.yaml. */
  readTools: ReturnType<typeof readTools>;
  version: string;
}

export function buildMcpServer(ctx: McpContext, sdk: McpSdk): McpServer {
  const { platform, principal } = ctx;
  const { McpError, CallToolRequestSchema, ListToolsRequestSchema } = sdk;
  const tenantId = principal.tenantId;
  const mcp = new sdk.McpServer({ name: 'plugboard', title: 'Plugboard', version: ctx.version }, { capabilities: { tools: { listChanged: false } }, instructions: INSTRUCTIONS, jsonSchemaValidator: sdk.validator });
  /** The JSON-RPC error of a call the key's scopes do not allow (DESIGN §10: names insufficient_scope). */
  const insufficientScope = (scope: string) => new McpError(RPC.insufficientScope, `insufficient_scope: this API key lacks the "${scope}" scope.`, { code: 'insufficient_scope', required_scope: scope });
  const unknownTool = (name: string) => new McpError(RPC.invalidParams, `Unknown tool "${name}".`, { code: 'unknown_tool' });

  mcp.server.setRequestHandler(ListToolsRequestSchema, async () => {
    try {
      const tools: Tool[] = [];
      if (hasScope(principal, 'write')) tools.push(...capabilityTools(platform, await platform.routing.available(tenantId)));
      if (hasScope(principal, 'read')) tools.push(...[...ctx.readTools.values()].map((t) => t.tool));
      return { tools };
    } catch (err) {
      if (err instanceof McpError) throw err;
      // A bug or a store failure: logged in full, answered without internals.
      platform.logger.error({ err, requestId: ctx.requestId }, 'MCP tools/list failed');
      throw new McpError(RPC.internal, 'Internal error.');
    }
  });

  mcp.server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    const { name, arguments: args = {}, _meta: meta } = request.params;
    try {
      const read = ctx.readTools.get(name);
      if (read) {
        if (!hasScope(principal, 'read')) throw insufficientScope('read');
        return await runReadTool(platform, tenantId, read, args);
      }
      // Any capability an installed connector offers (one the tenant cannot run now answers
      // no_active_provider, as POST /operations does); anything else is no tool at all.
      if (![...platform.connectors.values()].some((c) => c.capabilities.has(name))) throw unknownTool(name);
      if (!hasScope(principal, 'write')) throw insufficientScope('write');
      return await runCapability(platform, tenantId, name, args, meta as Record<string, unknown> | undefined, ctx.requestId);
    } catch (err) {
      if (err instanceof McpError) throw err;
      // A bug: logged in full, answered without internals.
      platform.logger.error({ err, requestId: ctx.requestId, tool: name }, 'MCP tool call failed');
      throw new McpError(RPC.internal, 'Internal error.');
    }
  });
  return mcp;
}
