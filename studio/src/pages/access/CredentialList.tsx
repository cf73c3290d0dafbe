// What API keys and OAuth clients share: a panel with the create form, the credential shown once
// after creating it, the list (name, an identifying column, scopes, dates) and revoking one after a
// confirmation. Each section says what differs (its columns, the words of its confirmation).
import { useId, useState, type ReactNode } from 'react';
import { useMutation, useQueryClient, type UseQueryResult } from '@tanstack/react-query';
import type { Scope } from '../../api/access';
import type { Paged } from '../../api/paged';
import { ConfirmActions, ModalDialog } from '../../components/Dialog';
import { QueryState, when } from '../../components/ops/QueryState';
import { ShownOnce, type SecretValue } from '../../components/ShownOnce';
import { CreateAccessForm, type NewAccess } from './CreateAccessForm';

export interface Credential {
  id: string;
  name: string;
  scopes: Scope[];
  created_at: string;
  last_used_at?: string | null;
}

export interface Column<T> {
  header: string;
  cell(item: T): ReactNode;
}

export interface CredentialListProps<T extends Credential> {
  /** The section's heading and plural noun ("API keys"). */
  title: string;
  /** The singular noun ("API key"). */
  what: string;
  hint: ReactNode;
  query: UseQueryResult<Paged<T>>;
  /** The query key of the list, refreshed (with the audit log) after a change. */
  queryKey: string;
  withExpiry?: boolean;
  /** Creates one; answers what to show once. */
  create(body: NewAccess): Promise<{ title: string; values: SecretValue[] }>;
  revoke(id: string): Promise<unknown>;
  /** Shown after the name (e.g. a tag). */
  nameExtra?(item: T): ReactNode;
  /** The identifying column, after the name. */
  identity: Column<T>;
  /** Columns after "Last used". */
  extraColumns?: Column<T>[];
  revokeTitle(item: T | null): string;
  revokeBody(item: T | null): ReactNode;
}

export function CredentialList<T extends Credential>(props: CredentialListProps<T>) {
  const { title, what, query, identity, extraColumns = [] } = props;
  const qc = useQueryClient();
  const headingId = useId();
  const [shown, setShown] = useState<{ title: string; values: SecretValue[] } | null>(null);
  const [revoking, setRevoking] = useState<T | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const refresh = () => Promise.all([qc.invalidateQueries({ queryKey: [props.queryKey] }), qc.invalidateQueries({ queryKey: ['audit-log'] })]);

  const revoke = useMutation({
    mutationFn: (id: string) => props.revoke(id),
    onMutate: () => setProblem(null),
    onError: (err) => setProblem(err.message),
    onSettled: refresh,
  });

  return (
    <section className="panel" aria-labelledby={headingId}>
      <h2 id={headingId}>{title}</h2>
      <p className="hint">{props.hint}</p>
      {shown && <ShownOnce title={shown.title} values={shown.values} onDone={() => setShown(null)} />}
      <CreateAccessForm
        what={what}
        withExpiry={props.withExpiry}
        create={async (body) => {
          setShown(await props.create(body));
          await refresh();
        }}
      />
      {problem && (
        <p className="form-problem" role="alert">
          {problem}
        </p>
      )}
      <QueryState query={query} what={`the ${title}`} empty={query.data?.items.length === 0 ? `No ${title} yet.` : undefined}>
        <div className="table-wrap" role="region" aria-label={`${what} list`} tabIndex={0}>
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">{identity.header}</th>
                <th scope="col">Scopes</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                {extraColumns.map((c) => (
                  <th key={c.header} scope="col">
                    {c.header}
                  </th>
                ))}
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {query.data?.items.map((item) => (
                <tr key={item.id}>
                  <td>
                    {item.name}
                    {props.nameExtra?.(item)}
                  </td>
                  <td>{identity.cell(item)}</td>
                  <td>{item.scopes.join(', ')}</td>
                  <td>{when(item.created_at)}</td>
                  <td>{item.last_used_at ? when(item.last_used_at) : 'never'}</td>
                  {extraColumns.map((c) => (
                    <td key={c.header}>{c.cell(item)}</td>
                  ))}
                  <td>
                    <button type="button" className="button small danger" disabled={revoke.isPending} onClick={() => setRevoking(item)}>
                      Revoke <span className="visually-hidden">{item.name}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </QueryState>
      <ModalDialog title={props.revokeTitle(revoking)} role="alertdialog" isOpen={revoking !== null} onClose={() => setRevoking(null)}>
        {props.revokeBody(revoking)}
        <ConfirmActions
          action="Revoke"
          onCancel={() => setRevoking(null)}
          onConfirm={() => {
            revoke.mutate(revoking!.id);
            setRevoking(null);
          }}
        />
      </ModalDialog>
    </section>
  );
}
