import { createHash, randomUUID } from 'node:crypto';
import { buildUnsignedUsdcPayment, checkSignedCopy, UnexpectedTransactionError } from '@tdk/chain';
import {
  type AgentListing,
  type ChainError,
  isChainError,
  type SolanaNetwork,
  type SolanaPort,
  splitPrice,
  type TettoIntent,
  type TettoStore,
  type UsdcTransfer,
  unstorableInput,
} from '@tdk/core';
import { type AgentInvoker, tettoContext } from '../agent-endpoint';
import { createSchemaValidator } from '../schemas';
import { agentToWire, isRecord, uuidPattern } from './wire';

/**
 * The server side of the Tetto wire protocol, once, for every place that serves it: TDK's own
 * Tetto-shaped endpoints (the local marketplace's agents) and the test stand-in of the platform.
 * A caller asks for an unsigned USDC payment of an agent's price (price − fee to the owner, the fee
 * to the protocol wallet), signs it with its own wallet and hands it back; the server submits the
 * very transaction it built, calls the agent with `{ input, tetto_context }` and keeps a receipt.
 * Framework-free: `handle` takes a method, a path and the raw body; `tettoHttpHandler` serves it.
 */

export interface TettoProtocolOptions {
  /** The agents offered; only active ones are listed and callable. */
  listAgents(): Promise<AgentListing[]>;
  getAgent(id: string): Promise<AgentListing | undefined>;
  /** Payments are built on this chain and the signed ones submitted to it. */
  chain: SolanaPort;
  /** Receives the protocol fee of every payment. */
  protocolWallet: string;
  /** Calls the agent once the payment landed. */
  invokeAgent: AgentInvoker;
  /** How long a built payment can be called with. Default 120 s. */
  intentTtlMs?: number;
  /** Where intents and receipts are kept. Default: this process's memory (`memoryTettoStore`). */
  store?: TettoStore;
  /** Test hook of the stand-in: rewrites what built payments pay, to play a dishonest platform. */
  rewriteTransfers?: (transfers: UsdcTransfer[]) => UsdcTransfer[];
}

export interface TettoReply {
  status: number;
  /** `{ ok: true, … }` or `{ ok: false, error, … }`. */
  body: Record<string, unknown>;
}

export interface TettoProtocol {
  /** `path` from the server root (`/api/agents/…`), `body` the raw request body. */
  handle(request: { method: string; path: string; body: string }): Promise<TettoReply>;
}

/** The routes served; the templates also label metrics. */
export const tettoRoutes = [
  { name: 'listAgents', method: 'GET', path: '/api/agents' },
  { name: 'getAgent', method: 'GET', path: '/api/agents/{id}' },
  { name: 'buildTransaction', method: 'POST', path: '/api/agents/{id}/build-transaction' },
  { name: 'call', method: 'POST', path: '/api/agents/call' },
  { name: 'getReceipt', method: 'GET', path: '/api/receipts/{id}' },
] as const;

type RouteName = (typeof tettoRoutes)[number]['name'];

const routePatterns = tettoRoutes.map((route) => ({
  ...route,
  pattern: new RegExp(`^${route.path.replace('{id}', '([^/]+)')}$`),
}));

/** Paths the protocol owns: it answers them all, with a Tetto-shaped 404 where no route matches. */
export const isTettoPath = (path: string): boolean =>
  path === '/api/agents' || path.startsWith('/api/agents/') || path.startsWith('/api/receipts/');

/** An answer `{ ok: false, error }` with its HTTP status. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function refuse(status: number, message: string): never {
  throw new Refusal(status, message);
}

const ok = (fields: Record<string, unknown>): TettoReply => ({ status: 200, body: { ok: true, ...fields } });

export function createTettoProtocol(options: TettoProtocolOptions): TettoProtocol {
  const { chain, protocolWallet, invokeAgent } = options;
  const ttlMs = options.intentTtlMs ?? 120_000;
  const store = options.store ?? memoryTettoStore();
  const rewrite = options.rewriteTransfers ?? ((transfers) => transfers);
  const schemas = createSchemaValidator();

  async function activeAgent(id: string): Promise<AgentListing> {
    const agent = await options.getAgent(id);
    if (agent?.status !== 'active') refuse(404, 'Agent not found');
    return agent;
  }

  async function listAgents(): Promise<TettoReply> {
    const agents = await options.listAgents();
    return ok({ agents: agents.filter((agent) => agent.status === 'active').map(agentToWire) });
  }

  async function getAgent(id: string): Promise<TettoReply> {
    return ok({ agent: agentToWire(await activeAgent(id)) });
  }

  async function buildTransaction(agentId: string, body: Record<string, unknown>): Promise<TettoReply> {
    const agent = await activeAgent(agentId);
    const { payer_wallet: payer, selected_token: token, input } = body;
    if (typeof payer !== 'string') refuse(400, 'payer_wallet is required');
    if (agent.token !== 'USDC' || (token !== undefined && token !== 'USDC')) {
      refuse(400, 'Only USDC payments are accepted');
    }
    const [issue] = schemas.validate(agent.input_schema, input);
    if (issue) refuse(400, `Input validation failed: ${issue.path} ${issue.message}`);

    const { agentReceives, protocolFee } = splitPrice(agent.price_base, agent.fee_bps);
    const transfers = [
      { to: agent.owner_wallet, amount: agentReceives },
      { to: protocolWallet, amount: protocolFee },
    ].filter(({ amount }) => amount > 0n);
    const id = randomUUID();
    const { blockhash } = await chain.latestBlockhash();
    let transaction: string;
    try {
      transaction = buildUnsignedUsdcPayment({
        payer,
        usdcMint: chain.usdcMint,
        transfers: rewrite(transfers),
        blockhash,
        memo: id,
      });
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      refuse(400, `Invalid payer_wallet: ${error.message}`);
    }
    const intent: TettoIntent = {
      id,
      agent_id: agent.id,
      price_base: agent.price_base.toString(),
      fee_bps: agent.fee_bps,
      payer,
      input,
      transaction,
      expires_at: Date.now() + ttlMs,
    };
    await store.saveIntent(intent);
    return ok({
      transaction,
      payment_intent_id: id,
      amount_base: Number(agent.price_base),
      token: 'USDC',
      expires_at: new Date(intent.expires_at).toISOString(),
      input_hash: inputHash(input),
    });
  }

  async function call(body: Record<string, unknown>): Promise<TettoReply> {
    // One use, whatever happens next: a second call with it finds nothing.
    const intentId = String(body.payment_intent_id);
    const intent = uuidPattern.test(intentId) ? await store.takeIntent(intentId) : undefined;
    if (!intent) refuse(404, 'Payment intent not found');
    if (Date.now() > intent.expires_at) refuse(410, 'Payment intent expired');
    const agent = await activeAgent(intent.agent_id);
    if (agent.price_base.toString() !== intent.price_base || agent.fee_bps !== intent.fee_bps) {
      refuse(409, "The agent's price changed since this payment was built; build a new one");
    }
    const signed = body.signed_transaction;
    if (typeof signed !== 'string') refuse(400, 'signed_transaction is required');
    let signature: string;
    try {
      signature = checkSignedCopy(intent.transaction, signed);
    } catch (error) {
      if (!(error instanceof UnexpectedTransactionError)) throw error;
      refuse(400, `Invalid signed transaction: ${error.message}`);
    }
    try {
      await chain.submitSigned(signed);
    } catch (error) {
      if (!isChainError(error)) throw error;
      return paymentFailed(error, signature);
    }

    // Paid: from here on, every outcome gets a receipt.
    const answer = await invokeAgent(agent, {
      input: intent.input,
      tetto_context: tettoContext(intent.payer, intent.id),
    });
    const { agentReceives, protocolFee } = splitPrice(agent.price_base, agent.fee_bps);
    const proof = {
      tx_signature: signature,
      receipt_id: randomUUID(),
      explorer_url: explorerUrl(signature, chain.network),
      agent_received: Number(agentReceives),
      protocol_fee: Number(protocolFee),
    };
    await store.saveReceipt(proof.receipt_id, {
      id: proof.receipt_id,
      agent_id: agent.id,
      agent_name: agent.name,
      caller_wallet: intent.payer,
      payment_intent_id: intent.id,
      tx_signature: signature,
      amount: Number(agent.price_base),
      amount_display: agent.price_display,
      token: 'USDC',
      agent_received: proof.agent_received,
      protocol_fee: proof.protocol_fee,
      status: answer.ok ? 'completed' : 'failed',
      input_hash: inputHash(intent.input),
      input: intent.input,
      output: answer.ok ? answer.output : null,
      explorer_url: proof.explorer_url,
      created_at: new Date().toISOString(),
    });
    if (answer.ok) return ok({ message: 'Agent called', output: answer.output, ...proof });
    const status = answer.code === 'agent_timeout' ? 504 : 502;
    return { status, body: { ok: false, error: answer.message, ...proof } };
  }

  async function getReceipt(id: string): Promise<TettoReply> {
    const found = uuidPattern.test(id) ? await store.getReceipt(id) : undefined;
    if (!found) refuse(404, 'Receipt not found');
    return ok({ receipt: found });
  }

  const run: Record<RouteName, (id: string, body: Record<string, unknown>) => Promise<TettoReply>> = {
    listAgents,
    getAgent,
    buildTransaction,
    call: (_, body) => call(body),
    getReceipt,
  };

  return {
    async handle({ method, path, body }) {
      try {
        const { name, id } = matchRoute(method, path);
        return await run[name](id, parseBody(body));
      } catch (error) {
        if (error instanceof Refusal)
          return { status: error.status, body: { ok: false, error: error.message } };
        if (isChainError(error) && error.code === 'unreachable') return chainUnreachable();
        throw error;
      }
    },
  };
}

function matchRoute(method: string, path: string): { name: RouteName; id: string } {
  for (const route of routePatterns) {
    const found = route.method === method ? route.pattern.exec(path) : null;
    if (found) return { name: route.name, id: decodeSegment(found[1] ?? '') };
  }
  refuse(404, 'Not found');
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    refuse(400, 'Malformed path');
  }
}

function parseBody(raw: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = raw ? JSON.parse(raw) : {};
  } catch {
    refuse(400, 'Malformed JSON');
  }
  if (!isRecord(body)) refuse(400, 'Expected a JSON object');
  // Refused as on TDK's other doors: deep nesting would overflow whatever reads it next (String(), JSON.stringify).
  const issue = unstorableInput(body);
  if (issue) refuse(400, `Invalid body: ${issue.path} ${issue.message}`);
  return body;
}

/** Why a signed payment did not settle. `unreachable` says no more than that (the cause may name the RPC). */
function paymentFailed(error: ChainError, signature: string): TettoReply {
  if (error.code === 'unreachable') return chainUnreachable(signature);
  const status = { insufficient_funds: 402, expired: 410, rejected: 400 }[error.code];
  return { status, body: { ok: false, error: `Payment failed: ${error.message}`, tx_signature: signature } };
}

/** With a signature, the payment was sent and may still land: the caller can look it up. */
const chainUnreachable = (signature?: string): TettoReply => ({
  status: 503,
  body: {
    ok: false,
    error: 'The Solana network could not be reached. Try again later.',
    ...(signature ? { tx_signature: signature } : {}),
  },
});

const inputHash = (input: unknown) => createHash('sha256').update(JSON.stringify(input)).digest('hex');

const explorerCluster: Record<SolanaNetwork, string> = {
  'mainnet-beta': '',
  devnet: '?cluster=devnet',
  localnet: '?cluster=custom',
  embedded: '?cluster=custom',
};

const explorerUrl = (signature: string, network: SolanaNetwork) =>
  `https://explorer.solana.com/tx/${signature}${explorerCluster[network]}`;

/** `map.set`, then drops the oldest entries beyond `limit` (maps iterate in insertion order). */
/**
 * Intents and receipts in this process's memory, each bounded to `limit` (the oldest dropped): for
 * the test stand-in of the platform, and a protocol served by one process only.
 */
export function memoryTettoStore(limit = 10_000): TettoStore {
  const intents = new Map<string, TettoIntent>();
  const receipts = new Map<string, Record<string, unknown>>();
  const remember = <V>(map: Map<string, V>, key: string, value: V) => {
    map.set(key, value);
    for (const oldest of map.keys()) {
      if (map.size <= limit) return;
      map.delete(oldest);
    }
  };
  return {
    saveIntent: async (intent) => remember(intents, intent.id, intent),
    takeIntent: async (id) => {
      const intent = intents.get(id);
      intents.delete(id);
      return intent;
    },
    saveReceipt: async (id, receipt) => remember(receipts, id, receipt),
    getReceipt: async (id) => receipts.get(id),
  };
}
