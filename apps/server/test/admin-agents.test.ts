import { testDatabaseKinds } from '@tdk/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing';
import { adminSession } from './support/customers';
import { jsonClient } from './support/http';

describe.each(testDatabaseKinds)('the agent registry on %s', (kind) => {
  let server: TestServer;
  let api: ReturnType<typeof jsonClient>;
  let admin: string;
  beforeAll(async () => {
    server = await startTestServer(kind, { TDK_EXAMPLE_AGENTS: 'false' });
    api = jsonClient(server.url);
    admin = await adminSession(server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const register = (name: string) =>
    api('POST', '/api/tdk/admin/agents', {
      token: admin,
      body: {
        name,
        description: 'An agent',
        endpoint_url: 'http://127.0.0.1:9/agent',
        price_base: 1000,
        owner_wallet: server.tdk.services.newKeypair().publicKey,
        input_schema: { type: 'object' },
        output_schema: { type: 'object' },
      },
    });

  it('answers 409 conflict to a name another agent has, at registration and on rename, and keeps both', async () => {
    const first = await register('first-agent');
    const second = await register('second-agent');
    expect([first.status, second.status]).toEqual([200, 200]);

    const again = await register('first-agent');
    expect(again.status, JSON.stringify(again.body)).toBe(409);
    expect(again.body.error.code).toBe('conflict');

    const renamed = await api('PATCH', `/api/tdk/admin/agents/${second.body.id}`, {
      token: admin,
      body: { name: 'first-agent' },
    });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(409);
    expect(renamed.body.error).toMatchObject({
      code: 'conflict',
      message: 'An agent named first-agent exists already.',
    });
    const names = await server.tdk.database.db.selectFrom('agent').select('name').orderBy('name').execute();
    expect(names.map((row) => row.name)).toEqual(['first-agent', 'second-agent']);
    // Nothing of it went to the log as a server fault.
    expect(server.logs().filter((line) => line.level === 50)).toEqual([]);
  });
});
