import { type AgentListing, agentTimeoutMs, type TettoContext } from '@tdk/core';
import { createSchemaValidator } from './schemas';

/**
 * Calling an agent's endpoint as the Tetto protocol does: POST `{ input, tetto_context }`, within the
 * agent type's timeout, and its output checked against the agent's output schema. Shared by the
 * local marketplace (TDK pays and calls) and the Tetto protocol server (a caller paid, TDK calls).
 */

export interface AgentCall {
  input: unknown;
  tetto_context: TettoContext;
}

/** The agent's output, valid against its schema, or why there is none (after payment: a failed call). */
export type AgentAnswer =
  | { ok: true; output: unknown }
  | { ok: false; code: 'agent_failed' | 'agent_timeout'; message: string; cause?: unknown };

export type AgentInvoker = (agent: AgentListing, call: AgentCall) => Promise<AgentAnswer>;

const protocolVersion = '1.0';

export const tettoContext = (callerWallet: string, intentId: string): TettoContext => ({
  caller_wallet: callerWallet,
  caller_agent_id: null,
  intent_id: intentId,
  timestamp: Date.now(),
  version: protocolVersion,
});

export function createAgentInvoker(options: { fetch?: typeof fetch } = {}): AgentInvoker {
  const fetchFn = options.fetch ?? fetch;
  const schemas = createSchemaValidator();

  return async (agent, call) => {
    const timeoutMs = agent.timeout_ms ?? agentTimeoutMs[agent.agent_type];
    let res: Response;
    try {
      res = await fetchFn(agent.endpoint_url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(call),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (cause) {
      const timedOut =
        cause instanceof Error && (cause.name === 'TimeoutError' || cause.name === 'AbortError');
      return timedOut
        ? failed('agent_timeout', `The agent did not answer within ${timeoutMs} ms.`, cause)
        : failed('agent_failed', 'The agent could not be reached.', cause);
    }
    const text = await res.text().catch(() => '');
    let output: unknown;
    try {
      output = text ? JSON.parse(text) : undefined;
    } catch {
      return failed('agent_failed', `The agent answered ${res.status} with a body that is not JSON.`);
    }
    if (!res.ok) {
      const error = (output as { error?: unknown } | undefined)?.error;
      const reason = typeof error === 'string' ? error : `HTTP ${res.status}`;
      return failed('agent_failed', `The agent failed: ${reason.slice(0, 500)}`);
    }
    const [issue] = schemas.validate(agent.output_schema, output);
    if (issue) {
      return failed(
        'agent_failed',
        `The agent's output does not match its schema: ${issue.path} ${issue.message}`,
      );
    }
    return { ok: true, output };
  };
}

const failed = (code: 'agent_failed' | 'agent_timeout', message: string, cause?: unknown): AgentAnswer => ({
  ok: false,
  code,
  message,
  ...(cause === undefined ? {} : { cause }),
});
