// In-app navigation under /studio/: push the path and let the shell (App.tsx, which listens to
// popstate) draw the page. `Link` is an ordinary anchor (opens in a new tab with a modifier key).
import { createElement, type AnchorHTMLAttributes, type MouseEvent } from 'react';

export const BASE = '/studio';

export function navigate(to: string): void {
  history.pushState(null, '', BASE + to);
  dispatchEvent(new PopStateEvent('popstate'));
  scrollTo(0, 0);
}

export function Link({ to, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    rest.onClick?.(e);
    if (e.defaultPrevented || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || e.button !== 0) return;
    e.preventDefault();
    navigate(to);
  };
  return createElement('a', { ...rest, href: BASE + to, onClick });
}
