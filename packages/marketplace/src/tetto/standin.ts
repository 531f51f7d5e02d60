import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { buildUnsignedUsdcPayment, checkSignedCopy, type PaymentSettlement } from '@tdk/chain';
import {
  type AgentListing,
  agentTimeoutMs,
  isChainError,
  type SolanaPort,
  splitPrice,
  type TettoContext,
  type UsdcTransfer,
} from '@tdk/core';
import { createSchemaValidator } from '../schemas';
import { agentToWire, isRecord } from './wire';

/** What the stand-in needs from a chain: to build payments on it and to settle what callers signed. */
export type StandInChain = Pick<SolanaPort, 'usdcMint'> &
  Pick<PaymentSettlement, 'latestBlockhash' | 'submitSigned'>;

export interface TettoStandInOptions {
  chain: StandInChain;
  agents: AgentListing[];
  /** Receives the protocol fee of every payment. */
  protocolWallet: string;
  /** How long a built payment can be called with. Default 120 s. */
  intentTtlMs?: number;
  /** Test hook: rewrites what built payments pay, to play a dishonest platform. */
  rewriteTransfers?: (transfers: UsdcTransfer[]) => UsdcTransfer[];
}

export interface TettoStandIn {
  /** e.g. `http://127.0.0.1:43127`, the adapter's `baseUrl`. */
  readonly url: string;
  close(): Promise<void>;
}

interface Intent {
  id: string;
  agent: AgentListing;
  payer: string;
  input: unknown;
  inputHash: string;
  /** The unsigned transaction as built: the only one this intent accepts, once signed. */
  transaction: string;
  expiresAt: number;
}

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

/** An answer `{ ok: false, error }` with its HTTP status. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const protocolVersion = '1.0';

/**
 * A local Tetto platform on 127.0.0.1, for tests: the caller endpoints of the Tetto wire protocol
 * with their field names. It builds real unsigned USDC payments, settles the signed ones on the
 * given chain (only the very transaction built for the intent, signed by the payer, before the
 * intent expires, once), calls the agent with `{ input, tetto_context }` and keeps receipts.
 */
export async function startTettoStandIn(options: TettoStandInOptions): Promise<TettoStandIn> {
  const { chain, protocolWallet } = options;
  const ttlMs = options.intentTtlMs ?? 120_000;
  const rewrite = options.rewriteTransfers ?? ((transfers) => transfers);
  const agents = new Map(options.agents.map((agent) => [agent.id, agent]));
  const intents = new Map<string, Intent>();
  const receipts = new Map<string, Record<string, unknown>>();
  const schemas = createSchemaValidator();

  function activeAgent(id: string): AgentListing {
    const agent = agents.get(id);
    if (agent?.status !== 'active') throw new Refusal(404, 'Agent not found');
    return agent;
  }

  const split = (agent: AgentListing) => splitPrice(agent.price_base, agent.fee_bps);

  async function buildTransaction(agentId: string, body: Record<string, unknown>): Promise<Reply> {
    const agent = activeAgent(agentId);
    const { payer_wallet: payer, selected_token: token, input } = body;
    if (typeof payer !== 'string') throw new Refusal(400, 'payer_wallet is required');
    if (token !== undefined && token !== 'USDC') throw new Refusal(400, `Token not accepted: ${token}`);
    const [issue] = schemas.validate(agent.input_schema, input);
    if (issue) throw new Refusal(400, `Input validation failed: ${issue.path} ${issue.message}`);

    const { agentReceives, protocolFee } = split(agent);
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
      throw new Refusal(400, `Invalid payer_wallet: ${(error as Error).message}`);
    }
    const intent: Intent = {
      id,
      agent,
      payer,
      input,
      inputHash: createHash('sha256').update(JSON.stringify(input)).digest('hex'),
      transaction,
      expiresAt: Date.now() + ttlMs,
    };
    intents.set(id, intent);
    return ok({
      transaction,
      payment_intent_id: id,
      amount_base: Number(agent.price_base),
      token: 'USDC',
      expires_at: new Date(intent.expiresAt).toISOString(),
      input_hash: intent.inputHash,
    });
  }

  async function call(body: Record<string, unknown>): Promise<Reply> {
    const intent = intents.get(String(body.payment_intent_id));
    if (!intent) throw new Refusal(404, 'Payment intent not found');
    intents.delete(intent.id);
    if (Date.now() > intent.expiresAt) throw new Refusal(410, 'Payment intent expired');
    const signed = String(body.signed_transaction);
    let signature: string;
    try {
      signature = checkSignedCopy(intent.transaction, signed);
    } catch (error) {
      throw new Refusal(400, `Invalid signed transaction: ${(error as Error).message}`);
    }
    try {
      await chain.submitSigned(signed);
    } catch (error) {
      if (!isChainError(error)) throw error;
      throw new Refusal(error.code === 'insufficient_funds' ? 402 : 400, `Payment failed: ${error.message}`);
    }

    // Paid: from here on, every outcome gets a receipt.
    const outcome = await invokeAgent(intent);
    const { agentReceives, protocolFee } = split(intent.agent);
    const proof = {
      tx_signature: signature,
      receipt_id: randomUUID(),
      explorer_url: `https://explorer.solana.com/tx/${signature}?cluster=custom`,
      agent_received: Number(agentReceives),
      protocol_fee: Number(protocolFee),
    };
    receipts.set(proof.receipt_id, {
      id: proof.receipt_id,
      agent_id: intent.agent.id,
      agent_name: intent.agent.name,
      caller_wallet: intent.payer,
      payment_intent_id: intent.id,
      tx_signature: signature,
      amount: Number(intent.agent.price_base),
      amount_display: intent.agent.price_display,
      token: 'USDC',
      agent_received: proof.agent_received,
      protocol_fee: proof.protocol_fee,
      status: 'output' in outcome ? 'completed' : 'failed',
      input_hash: intent.inputHash,
      input: intent.input,
      output: 'output' in outcome ? outcome.output : null,
      explorer_url: proof.explorer_url,
      created_at: new Date().toISOString(),
    });
    if ('output' in outcome) return ok({ message: 'Agent called', output: outcome.output, ...proof });
    return { status: outcome.status, body: { ok: false, error: outcome.error, ...proof } };
  }

  async function invokeAgent(
    intent: Intent,
  ): Promise<{ output: unknown } | { status: number; error: string }> {
    const timeoutMs = agentTimeoutMs[intent.agent.agent_type];
    const tetto_context: TettoContext = {
      caller_wallet: intent.payer,
      caller_agent_id: null,
      intent_id: intent.id,
      timestamp: Date.now(),
      version: protocolVersion,
    };
    try {
      const res = await fetch(intent.agent.endpoint_url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: intent.input, tetto_context }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const answer: unknown = await res.json().catch(() => undefined);
      if (res.ok && answer !== undefined) return { output: answer };
      const error =
        isRecord(answer) && typeof answer.error === 'string' ? answer.error : `HTTP ${res.status}`;
      return { status: 502, error: `Agent failed: ${error}` };
    } catch (error) {
      if ((error as Error).name === 'TimeoutError') {
        return { status: 504, error: `Agent timeout (${timeoutMs / 1000}s limit exceeded)` };
      }
      return { status: 502, error: `Agent unreachable: ${(error as Error).message}` };
    }
  }

  async function route(method: string, path: string, body: Record<string, unknown>): Promise<Reply> {
    if (method === 'GET' && path === '/api/agents') {
      return ok({ agents: [...agents.values()].filter((a) => a.status === 'active').map(agentToWire) });
    }
    if (method === 'POST' && path === '/api/agents/call') return call(body);
    const build = /^\/api\/agents\/([^/]+)\/build-transaction$/.exec(path);
    if (method === 'POST' && build) return buildTransaction(decodeURIComponent(build[1]!), body);
    const agent = /^\/api\/agents\/([^/]+)$/.exec(path);
    if (method === 'GET' && agent) {
      return ok({ agent: agentToWire(activeAgent(decodeURIComponent(agent[1]!))) });
    }
    const receipt = /^\/api\/receipts\/([^/]+)$/.exec(path);
    if (method === 'GET' && receipt) {
      const found = receipts.get(decodeURIComponent(receipt[1]!));
      if (!found) throw new Refusal(404, 'Receipt not found');
      return ok({ receipt: found });
    }
    throw new Refusal(404, 'Not found');
  }

  const server = createServer((req, res) => {
    const reply = async (): Promise<Reply> => {
      const raw = req.method === 'POST' ? await text(req) : '';
      let body: unknown;
      try {
        body = raw ? JSON.parse(raw) : {};
      } catch {
        throw new Refusal(400, 'Malformed JSON');
      }
      if (!isRecord(body)) throw new Refusal(400, 'Expected a JSON object');
      return route(req.method ?? 'GET', new URL(req.url ?? '/', 'http://stand-in').pathname, body);
    };
    reply()
      .catch((error: unknown): Reply => {
        if (error instanceof Refusal) {
          return { status: error.status, body: { ok: false, error: error.message } };
        }
        return { status: 500, body: { ok: false, error: `Internal error: ${(error as Error).message}` } };
      })
      .then(({ status, body }) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
      );
  });
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

const ok = (fields: Record<string, unknown>): Reply => ({ status: 200, body: { ok: true, ...fields } });
