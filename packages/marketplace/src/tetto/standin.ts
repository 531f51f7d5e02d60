import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AgentListing } from '@tdk/core';
import { createAgentInvoker } from '../agent-endpoint';
import { tettoHttpHandler } from './http';
import { createTettoProtocol, type TettoProtocolOptions } from './protocol';

export interface TettoStandInOptions
  extends Omit<TettoProtocolOptions, 'listAgents' | 'getAgent' | 'invokeAgent'> {
  agents: AgentListing[];
}

export interface TettoStandIn {
  /** e.g. `http://127.0.0.1:43127`, the adapter's `baseUrl`. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A local Tetto platform on 127.0.0.1, for tests: the shared protocol server over a fixed list of
 * agents, settling payments on the given chain.
 */
export async function startTettoStandIn(options: TettoStandInOptions): Promise<TettoStandIn> {
  const { agents, ...protocol } = options;
  const byId = new Map(agents.map((agent) => [agent.id, agent]));
  const server = createServer(
    tettoHttpHandler(
      createTettoProtocol({
        ...protocol,
        listAgents: async () => agents,
        getAgent: async (id) => byId.get(id),
        invokeAgent: createAgentInvoker(),
      }),
    ),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Clients keep connections alive; without this, close waits for them to time out.
        server.closeAllConnections();
      }),
  };
}
