// Routing: the tenant's rules per capability, in the order an operation tries them (rules by
// priority, then default rules), reordered with Move up / Move down buttons (keyboard operable);
// each rule's integration, fallback and default flag; which integration would be chosen now
// (GET /routing-rules/resolve); create, edit and delete rules.
import { useEffect, useMemo, useRef, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap, type Integration } from '../api/client';
import type { components } from '../api/schema';
import { useIntegrations, useProviders, useRoutingRules } from '../api/queries';
import { ConfirmActions, ModalDialog } from '../components/Dialog';
import { StatusBadge } from '../components/Status';
import { QueryState } from '../components/ops/QueryState';
import { RuleForm, type RuleDraft } from '../components/ops/RuleForm';
import { words, capabilityLabel } from '../labels';
import '../components/ops/ops.css';

type RoutingRule = components['schemas']['RoutingRule'];

/** The order the API tries rules in: non-default by priority, then default ones (ties: oldest first). */
const triedOrder = (rules: RoutingRule[]): RoutingRule[] =>
  [...rules].sort((a, b) => Number(a.is_default) - Number(b.is_default) || a.priority - b.priority || a.created_at.localeCompare(b.created_at));

export function RoutingPage() {
  const providers = useProviders();
  const integrations = useIntegrations();
  const rules = useRoutingRules(true);
  const [creating, setCreating] = useState<string | null>(null);
  const [announce, setAnnounce] = useState('');

  const names = useMemo(() => new Map((providers.data ?? []).map((p) => [p.name, p.display_name])), [providers.data]);
  const byId = useMemo(() => new Map((integrations.data ?? []).map((i) => [i.id, i])), [integrations.data]);
  const capabilities = useMemo(() => {
    const set = new Set<string>();
    for (const i of integrations.data ?? []) for (const c of i.enabled_capabilities) set.add(c);
    for (const r of rules.data ?? []) set.add(r.capability);
    return [...set].sort();
  }, [integrations.data, rules.data]);
  const label = (id: string | null | undefined) => {
    if (!id) return 'none';
    const i = byId.get(id);
    return i ? (names.get(i.provider) ?? i.provider) : `deleted integration ${id}`;
  };

  const loading = { isPending: providers.isPending || integrations.isPending || rules.isPending, isError: providers.isError || integrations.isError || rules.isError, error: providers.error ?? integrations.error ?? rules.error, refetch: () => Promise.all([providers.refetch(), integrations.refetch(), rules.refetch()]) };

  return (
    <>
      <h1>Routing</h1>
      <p className="lede">Which integration runs each capability. Rules are tried in order (default rules after the others); when a rule's integration fails, its fallback is tried.</p>
      <p className="visually-hidden" role="status" aria-live="polite">
        {announce}
      </p>
      <QueryState query={loading} what="the routing rules" empty={loading.isPending || loading.isError || capabilities.length ? undefined : 'No integration offers a capability yet. Configure one on the Integrations page, then route its capabilities here.'}>
        <div className="toolbar">
          <button type="button" className="button primary" onClick={() => setCreating(capabilities[0] ?? '')}>
            New rule
          </button>
        </div>
        {capabilities.map((c) => (
          <CapabilitySection key={c} capability={c} rules={triedOrder((rules.data ?? []).filter((r) => r.capability === c))} integrations={integrations.data ?? []} label={label} onNewRule={() => setCreating(c)} onAnnounce={setAnnounce} />
        ))}
      </QueryState>
      <ModalDialog title="New routing rule" isOpen={creating !== null} onClose={() => setCreating(null)}>
        {creating !== null && <CreateRule capability={creating} capabilities={capabilities} integrations={integrations.data ?? []} rules={rules.data ?? []} label={label} onDone={() => setCreating(null)} />}
      </ModalDialog>
    </>
  );
}

function CreateRule({ capability, capabilities, integrations, rules, label, onDone }: { capability: string; capabilities: string[]; integrations: Integration[]; rules: RoutingRule[]; label(id: string): string; onDone(): void }) {
  const qc = useQueryClient();
  const save = async (d: RuleDraft) => {
    // Last in its group: after the other rules of the capability with the same default flag.
    const peers = rules.filter((r) => r.capability === d.capability && r.is_default === d.is_default);
    const priority = Math.min(1_000_000, peers.reduce((m, r) => Math.max(m, r.priority), 0) + 10);
    await unwrap(api.POST('/routing-rules', { body: { ...d, priority } }));
    await qc.invalidateQueries({ queryKey: ['routing-rules'] });
    await qc.invalidateQueries({ queryKey: ['routing-resolve', d.capability] });
    onDone();
  };
  return <RuleForm initial={{ capability, integration_id: '', fallback_integration_id: null, is_default: false }} capabilities={capabilities} integrations={integrations} label={label} submitLabel="Create rule" onSubmit={save} onCancel={onDone} />;
}

function CapabilitySection({ capability, rules, integrations, label, onNewRule, onAnnounce }: { capability: string; rules: RoutingRule[]; integrations: Integration[]; label(id: string | null): string; onNewRule(): void; onAnnounce(text: string): void }) {
  const qc = useQueryClient();
  const headingId = `cap-${capability}`;
  const [editing, setEditing] = useState<RoutingRule | null>(null);
  const [deleting, setDeleting] = useState<RoutingRule | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const listRef = useRef<HTMLOListElement>(null);
  const byId = new Map(integrations.map((i) => [i.id, i]));
  const refresh = async () => {
    await qc.invalidateQueries({ queryKey: ['routing-rules'] });
    await qc.invalidateQueries({ queryKey: ['routing-resolve', capability] });
  };

  const move = useMutation({
    mutationFn: async ({ rule, by }: { rule: RoutingRule; by: -1 | 1 }) => {
      setProblem(null);
      const order = [...rules];
      const at = order.indexOf(rule);
      [order[at], order[at + by]] = [order[at + by]!, order[at]!];
      // Priorities 10, 20, 30… in the new order (defaults keep coming after the others by themselves).
      const changes = order.map((r, i) => ({ r, priority: (i + 1) * 10 })).filter(({ r, priority }) => r.priority !== priority);
      for (const { r, priority } of changes) await unwrap(api.PATCH('/routing-rules/{id}', { params: { path: { id: r.id } }, body: { priority } }));
      return { rule, position: at + by + 1, by };
    },
    onSuccess: ({ rule, position, by }) => {
      onAnnounce(`${label(rule.integration_id)} moved to position ${position} of ${capabilityLabel(capability)}.`);
      refocus.current = { id: rule.id, by };
    },
    onError: (err) => setProblem(err.message),
    onSettled: refresh,
  });
  // Keep the keyboard where it was once the list shows the new order: on the same button, or on its
  // sibling when the rule reached an end of its group (that button is then disabled).
  const refocus = useRef<{ id: string; by: number } | null>(null);
  useEffect(() => {
    const want = refocus.current;
    if (!want || move.isPending) return;
    refocus.current = null;
    const row = listRef.current?.querySelector(`[data-rule="${want.id}"]`);
    const same = row?.querySelector<HTMLButtonElement>(`[data-move="${want.by}"]`);
    (same && !same.disabled ? same : row?.querySelector<HTMLButtonElement>(`[data-move="${-want.by}"]`))?.focus();
  }, [rules, move.isPending]);
  const remove = useMutation({
    mutationFn: (rule: RoutingRule) => unwrap(api.DELETE('/routing-rules/{id}', { params: { path: { id: rule.id } } })),
    onError: (err) => setProblem(err.message),
    onSettled: refresh,
  });

  const saveEdit = async (d: RuleDraft) => {
    const rule = editing!;
    const body = { integration_id: d.integration_id, fallback_integration_id: d.fallback_integration_id, is_default: d.is_default, ...(d.is_default !== rule.is_default ? { priority: Math.min(1_000_000, rules.reduce((m, r) => Math.max(m, r.priority), 0) + 10) } : {}) };
    await unwrap(api.PATCH('/routing-rules/{id}', { params: { path: { id: rule.id } }, body }));
    await refresh();
    setEditing(null);
  };

  return (
    <section className="panel" aria-labelledby={headingId}>
      <header className="panel-header">
        <h2 id={headingId}>
          {capabilityLabel(capability)} <code className="muted-code">{capability}</code>
        </h2>
        <button type="button" className="button small" onClick={onNewRule} aria-label={`New rule for ${capabilityLabel(capability)}`}>
          Add rule
        </button>
      </header>
      <ChosenNow capability={capability} label={label} />
      {problem && (
        <p className="form-problem" role="alert">
          {problem}
        </p>
      )}
      {rules.length === 0 ? (
        <p className="empty-state">No rules: an operation uses the active integrations that offer it, oldest first.</p>
      ) : (
        <ol className="rule-list" ref={listRef} aria-label={`Rules for ${capabilityLabel(capability)}, in the order they are tried`}>
          {rules.map((r, i) => {
            const integration = byId.get(r.integration_id);
            const fallback = r.fallback_integration_id ? byId.get(r.fallback_integration_id) : undefined;
            const first = i === 0 || rules[i - 1]!.is_default !== r.is_default;
            const last = i === rules.length - 1 || rules[i + 1]!.is_default !== r.is_default;
            const name = label(r.integration_id);
            return (
              <li key={r.id} className="rule" data-rule={r.id}>
                <span className="rule-position" aria-hidden="true">
                  {i + 1}
                </span>
                <div className="rule-body">
                  <p className="rule-title">
                    <strong>{name}</strong> {integration ? <StatusBadge status={integration.status} /> : <span className="hint">deleted</span>}
                    {r.is_default && <span className="tag">Default</span>}
                  </p>
                  <p className="hint">
                    Fallback: {fallback || r.fallback_integration_id ? label(r.fallback_integration_id) : 'none'}
                    {fallback && ` (${fallback.status === 'active' ? 'active' : words(fallback.status)})`} · priority {r.priority}
                    {Object.keys(r.conditions ?? {}).length > 0 && ` · only when ${Object.entries(r.conditions).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(', ')}`}
                  </p>
                </div>
                <div className="rule-actions">
                  <button type="button" className="button small" data-move="-1" aria-label={`Move ${name} up`} disabled={first} aria-busy={move.isPending || undefined} onClick={() => !move.isPending && move.mutate({ rule: r, by: -1 })}>
                    <span aria-hidden="true">↑</span> Up
                  </button>
                  <button type="button" className="button small" data-move="1" aria-label={`Move ${name} down`} disabled={last} aria-busy={move.isPending || undefined} onClick={() => !move.isPending && move.mutate({ rule: r, by: 1 })}>
                    <span aria-hidden="true">↓</span> Down
                  </button>
                  <button type="button" className="button small" aria-label={`Edit the ${name} rule`} onClick={() => setEditing(r)}>
                    Edit
                  </button>
                  <button type="button" className="button small danger" aria-label={`Delete the ${name} rule`} disabled={remove.isPending} onClick={() => setDeleting(r)}>
                    Delete
                  </button>
                </div>
              </li>
            );
          })}
        </ol>
      )}
      <ModalDialog title={`Edit the ${capabilityLabel(capability)} rule`} isOpen={editing !== null} onClose={() => setEditing(null)}>
        {editing && <RuleForm initial={{ capability, integration_id: editing.integration_id, fallback_integration_id: editing.fallback_integration_id, is_default: editing.is_default }} capabilities={[capability]} integrations={integrations} label={label} submitLabel="Save rule" onSubmit={saveEdit} onCancel={() => setEditing(null)} />}
      </ModalDialog>
      <ModalDialog title={`Delete the ${capabilityLabel(capability)} rule for ${deleting ? label(deleting.integration_id) : ''}?`} role="alertdialog" isOpen={deleting !== null} onClose={() => setDeleting(null)}>
        <p>Operations of {capabilityLabel(capability)} stop using this rule at once.</p>
        <ConfirmActions
          action="Delete"
          onCancel={() => setDeleting(null)}
          onConfirm={() => {
            remove.mutate(deleting!);
            setDeleting(null);
          }}
        />
      </ModalDialog>
    </section>
  );
}

function ChosenNow({ capability, label }: { capability: string; label(id: string): string }) {
  const resolved = useQuery({
    queryKey: ['routing-resolve', capability],
    queryFn: () => unwrap(api.GET('/routing-rules/resolve', { params: { query: { capability } } })),
  });
  const r = resolved.data;
  return (
    <div className="chosen" aria-label={`Would be chosen now for ${capabilityLabel(capability)}`} role="group">
      <QueryState query={resolved} what="the current choice">
        {r && (
          <>
            <p className="chosen-line">
              <span className="muted">Would be chosen now:</span>{' '}
              {r.selected ? (
                <strong data-selected={r.selected}>{label(r.selected)}</strong>
              ) : (
                <strong className="text-red" data-selected="">
                  nothing — an operation would answer 409 no_active_provider
                </strong>
              )}
            </p>
            {r.chain.length > 0 && (
              <ol className="chain" aria-label="Tried in this order">
                {r.chain.map((step) => (
                  <li key={`${step.integration_id}-${step.reason}`}>
                    {label(step.integration_id)} <span className="hint">({step.reason})</span>
                  </li>
                ))}
              </ol>
            )}
            {r.skipped.length > 0 && (
              <details className="skipped">
                <summary>Passed over ({r.skipped.length})</summary>
                <ul>
                  {r.skipped.map((s, i) => (
                    <li key={i}>
                      {s.integration_id ? label(s.integration_id) : (s.provider ?? 'unknown')}: {s.reason}
                    </li>
                  ))}
                </ul>
              </details>
            )}
          </>
        )}
      </QueryState>
    </div>
  );
}
