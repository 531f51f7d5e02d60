import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { errorInfo, type Outputs, trpc } from './api';
import { AgentsPage } from './pages/agents';
import { AuditPage } from './pages/audit';
import { CallDetailPage, CallsPage } from './pages/calls';
import { CustomerDetailPage, CustomersPage } from './pages/customers';
import { KeysPage } from './pages/keys';
import { OverviewPage } from './pages/overview';
import { UsagePage } from './pages/usage';
import { Link, usePath } from './router';
import { ErrorNote, Field } from './ui';

const sections = [
  { to: '/', label: 'Overview' },
  { to: '/customers', label: 'Customers' },
  { to: '/keys', label: 'Keys and wallets' },
  { to: '/agents', label: 'Agents' },
  { to: '/usage', label: 'Usage and billing' },
  { to: '/calls', label: 'Calls' },
  { to: '/audit', label: 'Audit log' },
];

export function App() {
  const me = useQuery({ queryKey: ['me'], queryFn: () => trpc.auth.me.query(), retry: false });
  if (me.isPending) return <p className="muted centered">Loading…</p>;
  if (me.isError) {
    return errorInfo(me.error).code === 'unauthenticated' ? (
      <SignIn />
    ) : (
      <main className="centered">
        <ErrorNote error={me.error} />
      </main>
    );
  }
  if (me.data.role !== 'admin') return <NotAdmin user={me.data} />;
  return <Shell user={me.data} />;
}

function useSignOut() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => trpc.auth.logout.mutate(),
    // Nothing of the session stays in memory; `me` fails again, which shows the sign-in form.
    onSettled: () => queryClient.resetQueries(),
  });
}

function SignIn() {
  const queryClient = useQueryClient();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const signIn = useMutation({
    mutationFn: () => trpc.admin.signIn.mutate({ email, password }),
    onSuccess: (user) => queryClient.setQueryData(['me'], user),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    signIn.mutate();
  };
  return (
    <main className="centered">
      <form className="card sign-in" onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">TDK Admin</h1>
        <p className="muted">Sign in with an admin account.</p>
        <Field label="Email">
          {(id) => (
            <input
              id={id}
              type="email"
              autoComplete="username"
              required
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          )}
        </Field>
        <Field label="Password">
          {(id) => (
            <input
              id={id}
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          )}
        </Field>
        {signIn.isError ? <ErrorNote error={signIn.error} /> : null}
        <button type="submit" className="primary" disabled={signIn.isPending}>
          {signIn.isPending ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

function NotAdmin({ user }: { user: Outputs['auth']['me'] }) {
  const signOut = useSignOut();
  return (
    <main className="centered">
      <div className="card">
        <h1>Admins only</h1>
        <p role="alert">
          {user.email} is not an admin account. This app needs one: ask an admin, or run{' '}
          <code>pnpm tdk admin create</code>.
        </p>
        <button type="button" onClick={() => signOut.mutate()}>
          Sign out
        </button>
      </div>
    </main>
  );
}

function Shell({ user }: { user: Outputs['auth']['me'] }) {
  const path = usePath();
  const signOut = useSignOut();
  const section = (to: string) => (to === '/' ? path === '/' : path === to || path.startsWith(`${to}/`));
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">TDK Admin</span>
        <nav aria-label="Sections">
          {sections.map((s) => (
            <Link key={s.to} to={s.to} aria-current={section(s.to) ? 'page' : undefined}>
              {s.label}
            </Link>
          ))}
        </nav>
        <span className="who">
          {user.email}{' '}
          <button type="button" onClick={() => signOut.mutate()}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        <Route path={path} />
      </main>
    </>
  );
}

function Route({ path }: { path: string }) {
  const [, section, id] = path.split('/');
  if (!section) return <OverviewPage />;
  if (section === 'customers') return id ? <CustomerDetailPage id={id} /> : <CustomersPage />;
  if (section === 'keys') return <KeysPage />;
  if (section === 'agents') return <AgentsPage />;
  if (section === 'usage') return <UsagePage />;
  if (section === 'calls') return id ? <CallDetailPage id={id} /> : <CallsPage />;
  if (section === 'audit') return <AuditPage />;
  return (
    <p className="empty">
      No page here. <Link to="/">Back to the overview</Link>.
    </p>
  );
}
