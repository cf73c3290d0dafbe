// The API's 422 `errors` ({"events.0": ["..."], "body.url": ["..."], "credentials.account_sid": [...]})
// as a form's per-field errors: a key names the field by its part before the first dot, once any
// `body.` prefix (and the form's own prefix, e.g. `credentials.`) is taken off. Keys that name no
// field of the form are returned as text for the form's problem line.
export function fieldErrorsFrom(errors: Record<string, string[]>, fields: readonly string[], prefix?: string): { byField: Record<string, string[]>; other: string[] } {
  const byField: Record<string, string[]> = {};
  const other: string[] = [];
  for (const [key, messages] of Object.entries(errors)) {
    let rest = key.replace(/^body\./, '');
    if (prefix && rest.startsWith(`${prefix}.`)) rest = rest.slice(prefix.length + 1);
    const name = rest.split('.')[0]!;
    if (name && fields.includes(name)) (byField[name] ??= []).push(...messages);
    else other.push(...messages.map((m) => `${key}: ${m}`));
  }
  return { byField, other };
}

/** The problem line for a refused form: the API's message, plus what no field of the form shows. */
export const problemText = (message: string, other: string[]): string => (other.length ? `${message} ${other.join('; ')}` : message);
