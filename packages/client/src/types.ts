import type { CallError, CallRecord, CallResult as WireCallResult } from './contract.gen.js';

export type {
  Agent,
  AgentList,
  ApiKey,
  ApiKeyList,
  CallAccepted,
  CallError,
  CallList,
  CallRecord,
  CallRequest,
  Cost,
  DailyUsage,
  DailyUsageList,
  DailyUsageParams,
  ErrorBody,
  GenerateKeyRequest,
  KeyWithSecret,
  ListCallsParams,
  ListKeysParams,
  RollKeyRequest,
  UpdateKeyRequest,
  Usage,
} from './contract.gen.js';

/** A successful call: the agent's `output`, its `cost`, the `payment` that paid the agent, and its `receipt_id`. */
export type CallResult<TOutput = unknown> = Omit<WireCallResult, 'output'> & { output: TOutput };

/** `queued` (async calls only) → `paying` → `running` → `succeeded` or `failed`. */
export type CallStatus = CallRecord['status'];

/** One status change of a call, as `tdk.calls.events()` yields it. */
export interface CallEvent {
  call_id: string;
  /** 1, 2, 3… per call: pass the last one seen as `lastEventId` to resume after it. */
  seq: number;
  status: CallStatus;
  /** When it happened, ISO 8601. */
  at: string;
  /** Why the call failed (or, while `running`, that its payment's outcome is not known yet). */
  error?: CallError;
  /** On `succeeded`: exactly what the synchronous call returns. */
  result?: CallResult;
}
