// The signed-in API key: kept in sessionStorage (this tab only, gone when it closes), never in
// localStorage or a cookie. Listeners hear sign-in, sign-out and "the key was refused" (a 401).
const KEY = 'plugboard.apiKey';

type Listener = (reason?: string) => void;
const listeners = new Set<Listener>();

export function apiKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function signIn(key: string): void {
  sessionStorage.setItem(KEY, key);
  for (const l of listeners) l();
}

/** Forgets the key; `reason` is shown on the sign-in page (e.g. the key expired). */
export function signOut(reason?: string): void {
  sessionStorage.removeItem(KEY);
  for (const l of listeners) l(reason);
}

export function onSessionChange(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}
