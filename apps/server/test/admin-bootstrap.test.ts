import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing';
import { jsonClient } from './support/http';

const password = 'correct horse battery staple';

/**
 * The first admin that start-up makes from TDK_ADMIN_EMAIL. Emails are not verified, so an account
 * that already has that email may be anyone's: start-up only ever creates the admin.
 */
describe('the first admin at start-up', () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    // The last started first: they share the first one's database.
    for (const server of servers.reverse()) await server.stop();
  });
  const started = async (env: Record<string, string>, options: { shareDatabaseWith?: TestServer } = {}) => {
    const server = await startTestServer('pglite-memory', env, options);
    servers.push(server);
    return server;
  };

  /**
   * A deployment with no admin yet (no TDK_ADMIN_EMAIL, and not the embedded default), and a way to
   * start it again (a second process on its database) with other settings.
   */
  const deployment = async () => {
    const first = await started({});
    const roleOf = async (email: string) =>
      (
        await first.tdk.database.db
          .selectFrom('app_user')
          .select('role')
          .where('email', '=', email)
          .executeTakeFirstOrThrow()
      ).role;
    return {
      first,
      roleOf,
      restart: (env: Record<string, string>) => started(env, { shareDatabaseWith: first }),
    };
  };
  const warningsFor = (server: TestServer, email: string) =>
    server.logs().filter((line) => line.level === 40 && line.email === email);

  it('leaves an existing account with that email as it is, and says how to promote it', async () => {
    const { first, roleOf, restart } = await deployment();
    // Someone signed up with the operator's address before the operator set it.
    const email = 'ops@example.com';
    const squatter = await jsonClient(first.url)('POST', '/api/tdk/auth/register', {
      body: { email, password },
    });
    expect(squatter.status).toBe(200);

    const server = await restart({ TDK_ADMIN_EMAIL: email });
    expect(await roleOf(email)).toBe('customer');
    const me = await jsonClient(server.url)('GET', '/api/tdk/me', { token: squatter.body.session.token });
    expect(me.body.role).toBe('customer');
    const promotions = await first.tdk.database.db
      .selectFrom('audit_log')
      .select('action')
      .where('action', 'like', 'user.%admin%')
      .execute();
    expect(promotions).toEqual([]);
    expect(warningsFor(server, email)).toEqual([
      expect.objectContaining({ msg: expect.stringContaining(`tdk admin create --email ${email}`) }),
    ]);
  });

  it('creates the admin when no account has that email, and an admin that exists keeps working', async () => {
    const { roleOf, restart } = await deployment();
    const email = 'boss@example.com';
    const created = await restart({ TDK_ADMIN_EMAIL: email, TDK_ADMIN_PASSWORD: password });
    expect(await roleOf(email)).toBe('admin');
    expect(warningsFor(created, email)).toEqual([]);

    // Started again with the same settings: the admin signs in as before, with no warning.
    const again = await restart({ TDK_ADMIN_EMAIL: email, TDK_ADMIN_PASSWORD: password });
    const signedIn = await jsonClient(again.url)('POST', '/api/tdk/auth/login', {
      body: { email, password },
    });
    expect(signedIn.body.user.role).toBe('admin');
    expect(warningsFor(again, email)).toEqual([]);
  });
});
