// Routing rules: which integration serves a capability for which inputs, with a fallback.
// Selection: rules whose conditions match the input, by priority (lower first), then default
// rules; the first rule with an active target wins (none active: no target). When no rule matches
// at all, the tenant's active integrations offering the capability are used, oldest first.
import type { Store, RoutingRuleRow, IntegrationRow } from '../store/types.ts';
import type { Connector } from '../manifest/connector.ts';
import { newId } from '../store/ids.ts';
import { PlugboardError, notFound, invalid } from '../errors/plugboard-error.ts';
import { changedFieldNames, type AuditContext, type AuditLog } from '../access/audit.ts';

export interface RuleInput {
  capability: string;
  integration_id: string;
  fallback_integration_id?: string | null;
  is_default?: boolean;
  priority?: number;
  conditions?: Record<string, unknown>;
}

export interface RuleView extends Omit<RoutingRuleRow, 'tenant_id'> {}

/** Conditions: `{ "currency": "usd" }` or `{ "currency": ["usd", "eur"] }`, keys are dotted input paths. */
export function conditionsMatch(conditions: Record<string, unknown>, input: Record<string, unknown>): boolean {
  for (const [path, expected] of Object.entries(conditions)) {
    const actual = path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), input);
    if (Array.isArray(expected) ? !expected.some((e) => e === actual) : expected !== actual) return false;
  }
  return true;
}

export class RoutingService {
  constructor(
    private readonly store: Store,
    private readonly connectors: Map<string, Connector>,
    private readonly audit: AuditLog,
  ) {}

  view(row: RoutingRuleRow): RuleView {
    const { tenant_id: _t, ...rest } = row;
    return rest;
  }

  private async checkTarget(tenantId: string, capability: string, id: string, field: string): Promise<IntegrationRow> {
    const row = await this.store.integrations.get(tenantId, id);
    if (!row) throw invalid({ [field]: ['no such integration'] });
    if (!this.connectors.get(row.provider)?.capabilities.has(capability)) {
      throw invalid({ [field]: [`${row.provider} does not offer ${capability}`] });
    }
    if (!row.enabled_capabilities.includes(capability)) {
      throw invalid({ [field]: [`${capability} is not enabled on this integration (enabled_capabilities)`] });
    }
    return row;
  }

  private async validate(tenantId: string, r: RuleInput): Promise<void> {
    const known = new Set([...this.connectors.values()].flatMap((c) => [...c.capabilities.keys()]));
    if (!known.has(r.capability)) throw invalid({ capability: [`no installed provider offers "${r.capability}"`] });
    await this.checkTarget(tenantId, r.capability, r.integration_id, 'integration_id');
    if (r.fallback_integration_id) {
      if (r.fallback_integration_id === r.integration_id) throw invalid({ fallback_integration_id: ['must differ from integration_id'] });
      await this.checkTarget(tenantId, r.capability, r.fallback_integration_id, 'fallback_integration_id');
    }
  }

  // Changes are audited here, after they are made (AuditLog.record never throws).
  async create(ctx: AuditContext, input: RuleInput): Promise<RuleView> {
    const tenantId = ctx.principal.tenantId;
    await this.validate(tenantId, input);
    const now = new Date().toISOString();
    const row: RoutingRuleRow = {
      id: newId(),
      tenant_id: tenantId,
      capability: input.capability,
      integration_id: input.integration_id,
      fallback_integration_id: input.fallback_integration_id ?? null,
      is_default: input.is_default ?? false,
      priority: input.priority ?? 100,
      conditions: input.conditions ?? {},
      created_at: now,
      updated_at: now,
    };
    await this.store.routingRules.create(row);
    await this.audit.record(ctx, 'routing_rule.created', 'routing_rule', row.id, changedFieldNames(input, '', 1));
    return this.view(row);
  }

  async get(tenantId: string, id: string): Promise<RoutingRuleRow> {
    const row = await this.store.routingRules.get(tenantId, id);
    if (!row) throw notFound('Routing rule');
    return row;
  }

  async list(tenantId: string, q: { page: number; perPage: number; capability?: string }) {
    const res = await this.store.routingRules.list(tenantId, q);
    return { items: res.items.map((r) => this.view(r)), total: res.total };
  }

  async update(ctx: AuditContext, id: string, patch: Partial<RuleInput>): Promise<RuleView> {
    const tenantId = ctx.principal.tenantId;
    const row = await this.get(tenantId, id);
    const next: RuleInput = {
      capability: patch.capability ?? row.capability,
      integration_id: patch.integration_id ?? row.integration_id,
      fallback_integration_id: patch.fallback_integration_id === undefined ? row.fallback_integration_id : patch.fallback_integration_id,
    };
    await this.validate(tenantId, next);
    const updated = await this.store.routingRules.update(tenantId, id, { ...patch, updated_at: new Date().toISOString() });
    if (!updated) throw notFound('Routing rule');
    await this.audit.record(ctx, 'routing_rule.updated', 'routing_rule', id, changedFieldNames(patch, '', 1));
    return this.view(updated);
  }

  async remove(ctx: AuditContext, id: string): Promise<void> {
    if (!(await this.store.routingRules.delete(ctx.principal.tenantId, id))) throw notFound('Routing rule');
    await this.audit.record(ctx, 'routing_rule.deleted', 'routing_rule', id);
  }

  /**
   * The integrations to try, in order, for one operation. Only active integrations that enable
   * the capability are eligible.
   */
  async targets(tenantId: string, capability: string, input: Record<string, unknown>, integrationId?: string): Promise<IntegrationRow[]> {
    if (integrationId) {
      const row = await this.store.integrations.get(tenantId, integrationId);
      if (!row) throw invalid({ integration_id: ['no such integration'] });
      return this.ineligibility(row, capability) ? [] : [row];
    }
    return (await this.plan(tenantId, capability, input)).map((s) => s.integration);
  }

  /**
   * GET /routing-rules/resolve: what an operation of `capability` would run now (with an input no
   * rule condition matches), by the very selection `targets` makes, and what was passed over and why.
   */
  async resolve(tenantId: string, capability: string): Promise<Resolution> {
    const known = [...this.connectors.values()].some((c) => c.capabilities.has(capability));
    if (!known) throw invalid({ capability: [`no installed provider offers "${capability}"`] });
    const skipped: RouteSkip[] = [];
    const chain = await this.plan(tenantId, capability, {}, skipped);
    return {
      capability,
      selected: chain[0]?.integration.id ?? null,
      chain: chain.map((s) => ({ integration_id: s.integration.id, provider: s.integration.provider, rule_id: s.ruleId, reason: s.reason })),
      skipped,
    };
  }

  /**
   * Every capability the tenant can run now: capability -> the active integrations that offer and
   * enable it, oldest first (the targets an operation may select; the MCP server's tools).
   */
  async available(tenantId: string): Promise<Map<string, IntegrationRow[]>> {
    const out = new Map<string, IntegrationRow[]>();
    for (let page = 1; ; page++) {
      const res = await this.store.integrations.list(tenantId, { page, perPage: 100, status: 'active' });
      for (const row of res.items) {
        for (const capability of row.enabled_capabilities) {
          if (!this.ineligibility(row, capability)) out.set(capability, [...(out.get(capability) ?? []), row]);
        }
      }
      if (page * 100 >= res.total || !res.items.length) return out;
    }
  }

  /** Why an integration cannot serve a capability now (undefined: it can). */
  private ineligibility(row: IntegrationRow, capability: string): string | undefined {
    if (!this.connectors.get(row.provider)?.capabilities.has(capability)) return `${row.provider} does not offer ${capability}`;
    if (!row.enabled_capabilities.includes(capability)) return `${capability} is not enabled on this integration`;
    if (row.status !== 'active') return `the integration is ${row.status}, not active`;
    return undefined;
  }

  /**
   * Selection: rules whose conditions match the input, by priority, then default rules; the first
   * rule with an eligible target gives the chain (its integration, then its fallback). No rule at
   * all: every eligible active integration, oldest first. `skipped` collects what was passed over.
   */
  private async plan(tenantId: string, capability: string, input: Record<string, unknown>, skipped?: RouteSkip[]): Promise<RouteStep[]> {
    const rules = await this.store.routingRules.forCapability(tenantId, capability);
    const ordered = [
      ...rules.filter((r) => !r.is_default && conditionsMatch(r.conditions, input)),
      ...rules.filter((r) => r.is_default && conditionsMatch(r.conditions, input)),
    ];
    if (skipped) {
      for (const r of rules.filter((x) => !ordered.includes(x))) {
        const row = await this.store.integrations.get(tenantId, r.integration_id);
        skipped.push({ integration_id: r.integration_id, provider: row?.provider ?? null, rule_id: r.id, reason: `the rule applies only to inputs matching its conditions (${Object.keys(r.conditions).join(', ')})` });
      }
    }
    for (const rule of ordered) {
      const chain: RouteStep[] = [];
      const label = `${rule.is_default ? 'default rule' : 'rule'} (priority ${rule.priority})`;
      for (const [id, role] of [[rule.integration_id, label], [rule.fallback_integration_id, `fallback of the ${label}`]] as const) {
        if (!id) continue;
        const row = await this.store.integrations.get(tenantId, id);
        const why = row ? this.ineligibility(row, capability) : 'the integration no longer exists';
        if (!why) chain.push({ integration: row!, ruleId: rule.id, reason: role });
        else skipped?.push({ integration_id: id, provider: row?.provider ?? null, rule_id: rule.id, reason: `${role}: ${why}` });
      }
      if (chain.length) return chain;
    }
    // Rules matched but none has an active target: nothing may run (the tenant routed on purpose).
    if (ordered.length) return [];
    const all = await this.store.integrations.active(tenantId, 100);
    return all
      .filter((row) => !this.ineligibility(row, capability))
      .map((row) => ({ integration: row, ruleId: null, reason: 'no routing rule applies: an active integration offering the capability (oldest first)' }));
  }
}

export interface RouteStep {
  integration: IntegrationRow;
  ruleId: string | null;
  reason: string;
}

export interface RouteSkip {
  integration_id: string;
  provider: string | null;
  rule_id: string | null;
  reason: string;
}

export interface Resolution {
  capability: string;
  /** The integration an operation would run first; null: none (409 no_active_provider). */
  selected: string | null;
  /** In order: the selected integration, then its fallbacks. */
  chain: Array<{ integration_id: string; provider: string; rule_id: string | null; reason: string }>;
  skipped: RouteSkip[];
}
