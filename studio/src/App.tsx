// The studio's shell: sign-in when no API key is kept, else the header with navigation and the page
// for the current path under /studio/. Pages are added to PAGES as they are built.
import { lazy, Suspense, useEffect, useRef, useState, type ComponentType, type MouseEvent } from 'react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { apiKey, onSessionChange, signOut } from './api/session';
import { ApiError } from './api/client';
import { IntegrationsPage } from './pages/Integrations';
import { SignInPage } from './pages/SignIn';
import { BASE } from './navigate';
// Pages other than the first are separate chunks, loaded when opened (first-load budget, DESIGN §10).
const RoutingPage = lazy(() => import('./pages/Routing').then((m) => ({ default: m.RoutingPage })));
const WebhooksPage = lazy(() => import('./pages/Webhooks').then((m) => ({ default: m.WebhooksPage })));
const ApiAccessPage = lazy(() => import('./pages/ApiAccess').then((m) => ({ default: m.ApiAccessPage })));
const PlaygroundPage = lazy(() => import('./pages/Playground').then((m) => ({ default: m.PlaygroundPage })));
const IntegrationDetailPage = lazy(() => import('./pages/IntegrationDetail').then((m) => ({ default: m.IntegrationDetailPage })));
/** /integrations/{id}: one integration's detail page (reached from its provider card). */
const DETAIL = /^\/integrations\/([^/]+)$/;

const PAGES: Array<{ path: string; label: string; Page: ComponentType }> = [
  { path: '/integrations', label: 'Integrations', Page: IntegrationsPage },
  { path: '/routing', label: 'Routing', Page: RoutingPage },
  { path: '/webhooks', label: 'Webhooks', Page: WebhooksPage },
  { path: '/api-access', label: 'API access', Page: ApiAccessPage },
  { path: '/playground', label: 'Playground', Page: PlaygroundPage },
];

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // 4xx answers will not change by asking again; network trouble and 5xx may.
      retry: (count, err) => count < 2 && !(err instanceof ApiError && err.status >= 400 && err.status < 500),
      refetchOnWindowFocus: false,
    },
  },
});

function currentPath(): string {
  const p = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : location.pathname;
  return p === '' || p === '/' ? PAGES[0]!.path : p.replace(/\/$/, '');
}

export function App() {
  const [signedIn, setSignedIn] = useState(() => apiKey() !== null);
  const [reason, setReason] = useState<string | undefined>();
  const [path, setPath] = useState(currentPath);

  useEffect(
    () =>
      onSessionChange((why) => {
        const now = apiKey() !== null;
        setSignedIn(now);
        setReason(why);
        if (!now) queryClient.clear();
      }),
    [],
  );
  useEffect(() => {
    const onPop = () => setPath(currentPath());
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);

  // Each page names the tab; after a client-side navigation focus moves to the new page's h1 (or
  // #main while a lazily loaded page is still coming), as a full page load would reset it.
  const firstDraw = useRef(true);
  useEffect(() => {
    const known = PAGES.find((p) => p.path === path);
    const name = !signedIn ? 'Sign in' : known ? known.label : DETAIL.test(path) ? 'Integration' : 'Page not found';
    document.title = `${name} — Plugboard Studio`;
    if (firstDraw.current) {
      firstDraw.current = false;
      return;
    }
    if (!signedIn) return;
    return focusPageHeading();
  }, [path, signedIn]);

  if (!signedIn) return <SignInPage reason={reason} />;

  const go = (e: MouseEvent<HTMLAnchorElement>, to: string) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    history.pushState(null, '', BASE + to);
    setPath(to);
  };
  const page = PAGES.find((p) => p.path === path);
  const detailId = DETAIL.exec(path)?.[1];

  return (
    <QueryClientProvider client={queryClient}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <span className="brand">Plugboard Studio</span>
        <nav aria-label="Main">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <a href={BASE + p.path} aria-current={p.path === path ? 'page' : detailId && p.path === '/integrations' ? 'true' : undefined} onClick={(e) => go(e, p.path)}>
                  {p.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" className="button small" onClick={() => signOut('Signed out.')}>
          Sign out
        </button>
      </header>
      <main id="main" className="page" tabIndex={-1}>
        {page ? (
          <Suspense
            fallback={
              <p role="status" className="loading">
                Loading {page.label}…
              </p>
            }
          >
            <page.Page />
          </Suspense>
        ) : detailId ? (
          <Suspense
            fallback={
              <p role="status" className="loading">
                Loading the integration…
              </p>
            }
          >
            <IntegrationDetailPage key={detailId} id={decodeURIComponent(detailId)} />
          </Suspense>
        ) : (
          <>
            <h1>Page not found</h1>
            <p>
              There is no studio page at <code>{location.pathname}</code>.{' '}
              <a href={BASE + PAGES[0]!.path} onClick={(e) => go(e, PAGES[0]!.path)}>
                Go to {PAGES[0]!.label}
              </a>
            </p>
          </>
        )}
      </main>
    </QueryClientProvider>
  );
}

/** Focus the page's h1 (tabIndex -1), or #main until a lazily loaded page draws its h1; the cleanup stops waiting. */
function focusPageHeading(): () => void {
  const main = document.getElementById('main');
  if (!main) return () => undefined;
  const tryHeading = () => {
    // The page being left may still be in the DOM, hidden by Suspense: only a drawn h1 counts.
    const h1 = [...main.querySelectorAll('h1')].find((h) => h.getClientRects().length > 0);
    if (!h1) return false;
    h1.tabIndex = -1;
    h1.focus();
    return document.activeElement === h1;
  };
  if (tryHeading()) return () => undefined;
  main.focus();
  const watch = new MutationObserver(() => {
    // Only while nothing else was focused meanwhile (the user may already be typing).
    if (document.activeElement !== main) return watch.disconnect();
    if (tryHeading()) watch.disconnect();
  });
  watch.observe(main, { childList: true, subtree: true });
  const stop = setTimeout(() => watch.disconnect(), 10_000);
  return () => {
    clearTimeout(stop);
    watch.disconnect();
  };
}
