import type { Signer } from './solana';

/**
 * The marketplace port: where agents are listed and how a paid call reaches one. Adapters: the local
 * marketplace (agents registered in TDK's database; TDK pays and calls them itself) and the remote
 * Tetto platform (it builds the payment, TDK signs it with the key's wallet, the platform submits it
 * and calls the agent). Field names follow the Tetto wire protocol.
 */
export type JsonSchema = Record<string, unknown>;

export type AgentType = 'simple' | 'complex' | 'coordinator';

/** Agent timeouts of the Tetto protocol, by agent type. */
export const agentTimeoutMs: Record<AgentType, number> = {
  simple: 20_000,
  complex: 120_000,
  coordinator: 180_000,
};

export interface AgentListing {
  /** UUID. */
  id: string;
  name: string;
  description: string;
  endpoint_url: string;
  /** e.g. `$0.001`. */
  price_display: string;
  /** Price in the token's base units (USDC: micro-dollars). */
  price_base: bigint;
  token: 'USDC' | 'SOL';
  token_mint: string;
  token_decimals: number;
  input_schema: JsonSchema;
  output_schema: JsonSchema;
  /** Receives `price_base − fee`. */
  owner_wallet: string;
  /** Protocol fee in basis points of the price; default 1000 (10%). */
  fee_bps: number;
  status: 'active' | 'disabled';
  agent_type: AgentType;
  /** Overrides the agent type's timeout (TDK's local registry only). */
  timeout_ms?: number | null;
  example_inputs: unknown[];
}

/** What the agent receives beside its input, so it can recognise the caller. */
export interface TettoContext {
  caller_wallet: string;
  /** Null for direct calls (not from another agent). */
  caller_agent_id: string | null;
  intent_id: string;
  /** Milliseconds since the epoch. */
  timestamp: number;
  version: string;
}

/** The split of a price: the protocol fee is inside the price. */
export function splitPrice(
  priceBase: bigint,
  feeBps: number,
): { agentReceives: bigint; protocolFee: bigint } {
  const protocolFee = (priceBase * BigInt(feeBps)) / 10_000n;
  return { agentReceives: priceBase - protocolFee, protocolFee };
}

export interface PaidCallRequest {
  agent: AgentListing;
  input: unknown;
  /** The dedicated wallet of the API key making the call: it pays and is the `caller_wallet`. */
  payer: Signer;
  /** Unique per call: the payment's memo and the agent's `intent_id`. */
  intentId: string;
  /**
   * Called once the payment is signed, before it leaves TDK; if it throws, nothing is sent. The
   * caller writes the payment down, so a crash right after the send can be settled from the chain.
   */
  beforePay?: (payment: PlannedPayment) => Promise<void>;
}

/** A payment signed and about to be sent: everything of its proof but what it will cost on chain. */
export type PlannedPayment = Omit<PaymentProof, 'lamportsSpent'>;

export interface PaymentProof {
  signature: string;
  /** The payer's exact SOL drop for the payment transaction (fee, rent of created accounts). */
  lamportsSpent: bigint;
  agentReceived: bigint;
  protocolFee: bigint;
  /** Where the protocol fee went. */
  protocolWallet: string;
}

export interface PaidCallResult {
  output: unknown;
  payment: PaymentProof;
  receiptId: string;
}

/**
 * A call that failed after its payment landed: the payment is real and must be recorded.
 * - `agent_failed`: the agent answered with an error, or with output that breaks its schema.
 * - `agent_timeout`: no answer within the agent type's timeout.
 */
export class PaidCallError extends Error {
  override readonly name = 'PaidCallError';
  constructor(
    readonly code: 'agent_failed' | 'agent_timeout',
    message: string,
    readonly payment: PaymentProof,
    readonly receiptId: string | undefined,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

export const isPaidCallError = (error: unknown): error is PaidCallError => error instanceof PaidCallError;

export interface MarketplacePort {
  readonly kind: 'local' | 'tetto';
  listAgents(): Promise<AgentListing[]>;
  /** By id (UUID) or unique name; undefined when unknown. */
  getAgent(idOrName: string): Promise<AgentListing | undefined>;
  /**
   * Pays the agent from `payer` and calls it. Throws ChainError when the payment did not happen
   * (nothing was paid), PaidCallError when it did but the agent failed.
   */
  callAgent(request: PaidCallRequest): Promise<PaidCallResult>;
}

/** A payment the Tetto protocol built, waiting for its signed copy. Plain JSON, so any store keeps it. */
export interface TettoIntent {
  id: string;
  agent_id: string;
  /** The agent's price and fee when the payment was built: what the transaction pays. */
  price_base: string;
  fee_bps: number;
  payer: string;
  input: unknown;
  /** The unsigned transaction as built: the only one this intent accepts, once signed. */
  transaction: string;
  /** Milliseconds since the epoch. */
  expires_at: number;
}

/**
 * Where the Tetto protocol keeps its intents and receipts. TDK keeps them in its database, so a
 * client may build a payment on one server process and call with it on another, and receipts
 * outlive the process that wrote them.
 */
export interface TettoStore {
  saveIntent(intent: TettoIntent): Promise<void>;
  /** Removes and returns the intent: it is used once, by whichever request takes it first. */
  takeIntent(id: string): Promise<TettoIntent | undefined>;
  saveReceipt(id: string, receipt: Record<string, unknown>): Promise<void>;
  getReceipt(id: string): Promise<Record<string, unknown> | undefined>;
}
