/**
 * What every agent here shares: its listing metadata, its handler, and the error a handler throws to
 * answer `{ error }` with a 4xx status. The wire envelope (`{ input, tetto_context }`) is read by the
 * server, so handlers see only the input and the caller's wallet.
 */
export type JsonSchema = Record<string, unknown>;
export type JsonObject = Record<string, unknown>;

/** Listing metadata, enough for a marketplace to register the agent (it maps these to its listing fields). */
export interface AgentSpec {
  /** Unique listing name; the agent server hosts the agent at `/agents/<name>`. */
  name: string;
  description: string;
  token: 'USDC';
  /** Price in USDC base units (micro-dollars). */
  priceBase: bigint;
  /** e.g. `$0.001`. */
  priceDisplay: string;
  agentType: 'simple' | 'complex' | 'coordinator';
  /** Plain JSON Schema (no `$schema`, no `format`): compiles with ajv's draft-07 and 2020-12 classes. */
  inputSchema: JsonSchema;
  outputSchema: JsonSchema;
  exampleInputs: JsonObject[];
}

export interface AgentCall {
  /** `tetto_context.caller_wallet`: whose data this call reads and writes. */
  callerWallet: string;
  /** Aborted when the caller hangs up or the server closes. */
  signal: AbortSignal;
}

export type AgentHandler = (input: JsonObject, call: AgentCall) => Promise<JsonObject>;

/** Answered as `{ error: message }` with `status`; anything else a handler throws becomes a 500. */
export class AgentError extends Error {
  override readonly name = 'AgentError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function badInput(message: string): AgentError {
  return new AgentError(400, message);
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
