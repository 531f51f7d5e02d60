import { checkUsdcPayment, signSerializedTransaction } from '@tdk/chain';
import {
  type AgentListing,
  AppError,
  agentTimeoutMs,
  ChainError,
  type MarketplacePort,
  PaidCallError,
  type PaidCallRequest,
  type PaidCallResult,
  type PaymentProof,
  type SolanaPort,
  splitPrice,
} from '@tdk/core';
import { agentFromWire, isRecord, uuidPattern } from './wire';

export interface TettoPlatformOptions {
  /** e.g. `https://tetto.io`. */
  baseUrl: string;
  /** Tetto's protocol wallet: the only account a payment may send the fee to. */
  protocolWallet: string;
  /**
   * The chain Tetto pays on: its USDC mint is the one accepted, and it says whether a payment handed
   * to the platform landed and the payer's exact SOL drop in it (`lamportsSpentOf`).
   */
  chain: SolanaPort;
  fetch?: typeof fetch;
  /** Per listing and build-transaction request. Default 10 s. */
  timeoutMs?: number;
  /** Added to the agent type's timeout for the call request, which also settles the payment. Default 30 s. */
  callMarginMs?: number;
}

interface Answer {
  status: number;
  ok: boolean;
  body: Record<string, unknown>;
  /** The platform's `error`, or the HTTP status when it gave none. */
  error: string;
}

/**
 * The marketplace port on a remote Tetto platform. A call: the platform builds the payment, TDK
 * checks that it pays exactly this agent its price and nothing else, signs it with the payer, and
 * hands it back; the platform submits it and calls the agent.
 *
 * Errors: listing failures are AppError `bad_gateway`. In `callAgent`, ChainError means nothing
 * reached the agent's owner: before signing (platform unreachable or refusing, or TDK refusing the
 * transaction it built) it has no signature; once the signed payment was handed over it carries the
 * signature, and `lamportsSpent` when the payment landed and failed. PaidCallError means the payment
 * landed and the agent failed or timed out.
 */
export type TettoPlatformMarketplace = MarketplacePort & { readonly kind: 'tetto' };

export function createTettoPlatformMarketplace(options: TettoPlatformOptions): TettoPlatformMarketplace {
  const { chain, protocolWallet } = options;
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const fetchFn = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const callMarginMs = options.callMarginMs ?? 30_000;

  async function send(path: string, timeout: number, body?: unknown): Promise<Answer> {
    const res = await fetchFn(`${baseUrl}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeout),
    });
    const parsed: unknown = await res.json().catch(() => undefined);
    const answer = isRecord(parsed) ? parsed : {};
    const error = typeof answer.error === 'string' ? answer.error : `HTTP ${res.status}`;
    return { status: res.status, ok: res.ok && answer.ok === true, body: answer, error };
  }

  async function read(path: string): Promise<Answer> {
    try {
      return await send(path, timeoutMs);
    } catch (cause) {
      throw new AppError('bad_gateway', `Tetto could not be reached: ${reason(cause)}`, { cause });
    }
  }

  function listings(values: unknown[]): AgentListing[] {
    try {
      return values.map(agentFromWire);
    } catch (cause) {
      throw new AppError('bad_gateway', `Tetto sent an agent TDK cannot read: ${reason(cause)}`, { cause });
    }
  }

  async function listAgents(): Promise<AgentListing[]> {
    const answer = await read('/api/agents');
    if (!answer.ok || !Array.isArray(answer.body.agents)) {
      throw new AppError('bad_gateway', `Tetto did not list its agents: ${answer.error}`);
    }
    return listings(answer.body.agents);
  }

  async function getAgent(idOrName: string): Promise<AgentListing | undefined> {
    // The platform looks agents up by id only.
    if (!uuidPattern.test(idOrName)) return (await listAgents()).find((agent) => agent.name === idOrName);
    const answer = await read(`/api/agents/${idOrName}`);
    if (answer.status === 404) return undefined;
    if (!answer.ok) throw new AppError('bad_gateway', `Tetto did not return the agent: ${answer.error}`);
    return listings([answer.body.agent])[0];
  }

  /** Asks the platform for the unsigned payment; nothing is signed yet, so every failure is a bare ChainError. */
  async function buildPayment(agent: AgentListing, input: unknown, payerWallet: string) {
    let answer: Answer;
    try {
      answer = await send(`/api/agents/${agent.id}/build-transaction`, timeoutMs, {
        payer_wallet: payerWallet,
        selected_token: 'USDC',
        input,
      });
    } catch (cause) {
      throw new ChainError('unreachable', `Tetto could not be reached: ${reason(cause)}`, { cause });
    }
    if (!answer.ok) {
      throw new ChainError(refusalCode(answer), `Tetto refused to build the payment: ${answer.error}`);
    }
    const { transaction, payment_intent_id, amount_base } = answer.body;
    if (typeof transaction !== 'string' || typeof payment_intent_id !== 'string') {
      throw new ChainError('rejected', 'Tetto answered build-transaction without a transaction');
    }
    if (String(amount_base) !== agent.price_base.toString()) {
      throw new ChainError('rejected', `Tetto asks ${amount_base} for an agent priced ${agent.price_base}`);
    }
    return { transaction, paymentIntentId: payment_intent_id };
  }

  // `intentId` has no place on the wire: the platform names the payment (its memo, the agent's `intent_id`).
  async function callAgent({ agent, input, payer, beforePay }: PaidCallRequest): Promise<PaidCallResult> {
    if (agent.token !== 'USDC' || agent.token_mint !== chain.usdcMint) {
      throw new ChainError(
        'rejected',
        `TDK pays in USDC (${chain.usdcMint}), not ${agent.token} (${agent.token_mint})`,
      );
    }
    const { agentReceives, protocolFee } = splitPrice(agent.price_base, agent.fee_bps);
    const built = await buildPayment(agent, input, payer.publicKey);
    try {
      checkUsdcPayment(built.transaction, {
        payer: payer.publicKey,
        usdcMint: chain.usdcMint,
        transfers: [
          { to: agent.owner_wallet, amount: agentReceives },
          { to: protocolWallet, amount: protocolFee },
        ],
      });
    } catch (cause) {
      const why = `TDK refused to sign the payment Tetto built: ${reason(cause)}`;
      throw new ChainError('rejected', why, { cause });
    }
    const { signedBase64, signature } = signSerializedTransaction(built.transaction, payer);
    await beforePay?.({ signature, agentReceived: agentReceives, protocolFee, protocolWallet });
    const paid = async (): Promise<PaymentProof> => ({
      signature,
      lamportsSpent: await chain.lamportsSpentOf(signature),
      agentReceived: agentReceives,
      protocolFee,
      protocolWallet,
    });

    let answer: Answer | undefined;
    let failure: unknown;
    try {
      answer = await send('/api/agents/call', agentTimeoutMs[agent.agent_type] + callMarginMs, {
        payment_intent_id: built.paymentIntentId,
        signed_transaction: signedBase64,
      });
    } catch (cause) {
      failure = cause;
    }
    const receiptId = typeof answer?.body.receipt_id === 'string' ? answer.body.receipt_id : undefined;
    if (answer?.ok) {
      // Without a receipt id, the payment intent is the platform's name for this call.
      return {
        output: answer.body.output,
        payment: await paid(),
        receiptId: receiptId ?? built.paymentIntentId,
      };
    }
    throw await handedOverFailure({ signature, answer, failure, receiptId, paid });
  }

  /**
   * Why a call failed once the signed payment was handed over; whether the payment landed decides.
   * Landed: PaidCallError. Landed and failed: ChainError with the fee spent. Not seen: ChainError
   * with the signature, so the caller can ask the chain again before trying anew.
   */
  async function handedOverFailure({
    signature,
    answer,
    failure,
    receiptId,
    paid,
  }: {
    signature: string;
    answer: Answer | undefined;
    failure: unknown;
    receiptId: string | undefined;
    paid: () => Promise<PaymentProof>;
  }): Promise<Error> {
    const message = answer ? `Tetto: ${answer.error}` : `Tetto did not answer the call: ${reason(failure)}`;
    const status = await chain.transactionStatus(signature).catch(() => 'unknown' as const);
    if (status === 'confirmed') {
      const timedOut = answer ? answer.status === 504 : isTimeout(failure);
      const code = timedOut ? 'agent_timeout' : 'agent_failed';
      return new PaidCallError(code, message, await paid(), receiptId, { cause: failure });
    }
    if (status === 'failed') {
      const lamportsSpent = await chain.lamportsSpentOf(signature);
      return new ChainError('rejected', `The payment landed and failed. ${message}`, {
        signature,
        lamportsSpent,
      });
    }
    const code = answer ? refusalCode(answer) : 'unreachable';
    return new ChainError(code, message, { signature, cause: failure });
  }

  return { kind: 'tetto', listAgents, getAgent, callAgent };
}

const refusalCode = (answer: Answer) => (answer.status === 402 ? 'insufficient_funds' : 'rejected');

const isTimeout = (error: unknown) => (error as { name?: unknown } | undefined)?.name === 'TimeoutError';

const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));
