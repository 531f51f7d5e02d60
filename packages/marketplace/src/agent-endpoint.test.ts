import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentListing } from '@tdk/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createAgentInvoker, tettoContext } from './agent-endpoint';

/**
 * An HTTP/1.1 agent over raw TCP that answers the first request of each connection and keeps it
 * open, then resets the connection when a second request arrives on it: what a client meets when
 * it reuses a kept-alive connection just as the agent closes it (and sends no `Keep-Alive` hint).
 */
async function agentResettingReusedConnections(): Promise<{
  url: string;
  served: () => number;
  server: Server;
}> {
  let served = 0;
  const server = createServer((socket: Socket) => {
    let requests = 0;
    socket.on('data', (chunk) => {
      if (!chunk.includes('\r\n\r\n')) return; // headers and the small body arrive together here
      requests += 1;
      if (requests > 1) {
        socket.resetAndDestroy();
        return;
      }
      served += 1;
      const body = JSON.stringify({ served });
      socket.write(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: keep-alive\r\n\r\n${body}`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/agent`, served: () => served, server };
}

const listing = (endpoint: string): AgentListing => ({
  id: '00000000-0000-4000-8000-000000000000',
  name: 'resetting',
  description: 'closes reused connections',
  endpoint_url: endpoint,
  price_display: '$0.001',
  price_base: 1000n,
  token: 'USDC',
  token_mint: 'mint',
  token_decimals: 6,
  input_schema: {},
  output_schema: { type: 'object', required: ['served'] },
  owner_wallet: 'owner',
  fee_bps: 1000,
  status: 'active',
  agent_type: 'simple',
  timeout_ms: 2_000,
  example_inputs: [],
});

describe('calling an agent', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('never sends a request on a connection idle long enough for the agent to be closing it', async () => {
    const agent = await agentResettingReusedConnections();
    server = agent.server;
    const invoke = createAgentInvoker();
    const call = { input: {}, tetto_context: tettoContext('wallet', 'intent') };

    expect(await invoke(listing(agent.url), call)).toEqual({ ok: true, output: { served: 1 } });
    // Idle for longer than TDK keeps a connection: the next call opens a new one.
    await sleep(2_000);
    expect(await invoke(listing(agent.url), call)).toEqual({ ok: true, output: { served: 2 } });
  });

  it('does not send a request again when its connection is reset: the agent may have done the work', async () => {
    const agent = await agentResettingReusedConnections();
    server = agent.server;
    const invoke = createAgentInvoker();
    const call = { input: {}, tetto_context: tettoContext('wallet', 'intent') };

    expect(await invoke(listing(agent.url), call)).toMatchObject({ ok: true });
    // At once, on the kept-alive connection, which this agent resets.
    expect(await invoke(listing(agent.url), call)).toMatchObject({ ok: false, code: 'agent_failed' });
    expect(agent.served()).toBe(1);
  });
});
