import { type AnchorHTMLAttributes, type MouseEvent, useSyncExternalStore } from 'react';

/** The app lives under /admin; the server answers index.html for every path below it. */
const base = '/admin';

function subscribe(onChange: () => void) {
  window.addEventListener('popstate', onChange);
  return () => window.removeEventListener('popstate', onChange);
}

/** The path inside the app, e.g. `/customers/usr_…`. */
export function usePath(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname.slice(base.length) || '/');
}

export function navigate(to: string): void {
  window.history.pushState(null, '', base + to);
  window.dispatchEvent(new PopStateEvent('popstate'));
  window.scrollTo(0, 0);
}

/** A real link (open in a new tab works), followed in place on a plain click. */
export function Link({ to, ...props }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={base + to} onClick={onClick} {...props} />;
}
