import http from 'node:http';
import https from 'node:https';
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

/** An agent's answer above this is refused rather than read into memory. */
const maxAnswerBytes = 5 * 1024 * 1024;

/**
 * Agents are called over node:http with keep-alive connections rather than `fetch`: on the paid
 * call's path, undici's `fetch` cost about 0.9 ms of CPU per call against a local agent, this 0.1 ms.
 */
export function createAgentInvoker(): AgentInvoker {
  const schemas = createSchemaValidator();
  const agents = {
    'http:': new http.Agent({ keepAlive: true }),
    'https:': new https.Agent({ keepAlive: true }),
  };

  return async (agent, call) => {
    const timeoutMs = agent.timeout_ms ?? agentTimeoutMs[agent.agent_type];
    let answer: { status: number; text: string };
    try {
      answer = await post(new URL(agent.endpoint_url), JSON.stringify(call), timeoutMs, agents);
    } catch (cause) {
      if (cause instanceof AgentTimeout) {
        return failed('agent_timeout', `The agent did not answer within ${timeoutMs} ms.`, cause);
      }
      if (cause instanceof AnswerTooLarge) {
        return failed('agent_failed', `The agent's answer is larger than ${maxAnswerBytes} bytes.`);
      }
      return failed('agent_failed', 'The agent could not be reached.', cause);
    }
    const { status, text } = answer;
    let output: unknown;
    try {
      output = text ? JSON.parse(text) : undefined;
    } catch {
      return failed('agent_failed', `The agent answered ${status} with a body that is not JSON.`);
    }
    if (status < 200 || status > 299) {
      const error = (output as { error?: unknown } | undefined)?.error;
      const reason = typeof error === 'string' ? error : `HTTP ${status}`;
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

class AgentTimeout extends Error {}
class AnswerTooLarge extends Error {}

/**
 * POSTs JSON and reads the whole answer, all within `timeoutMs`; redirects are not followed. A
 * kept-alive connection the agent closed just as it was reused fails before the agent saw the
 * request (Node's documented keep-alive race): that one request is sent again, once, on a new
 * connection.
 */
async function post(
  url: URL,
  body: string,
  timeoutMs: number,
  agents: Record<'http:' | 'https:', http.Agent>,
): Promise<{ status: number; text: string }> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`unsupported agent URL scheme ${url.protocol}`);
  }
  const started = Date.now();
  try {
    return await send(url, body, timeoutMs, agents[url.protocol]);
  } catch (error) {
    if (!(error instanceof StaleConnection)) throw error;
    return send(url, body, Math.max(1, timeoutMs - (Date.now() - started)), false);
  }
}

/** The agent closed a reused keep-alive connection before answering anything. */
class StaleConnection extends Error {}

function send(
  url: URL,
  body: string,
  timeoutMs: number,
  agent: http.Agent | false,
): Promise<{ status: number; text: string }> {
  const request = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    let answered = false;
    // Whichever comes first settles: the answer, or an error on the request or its response.
    const fail = (error: Error & { code?: string }) => {
      clearTimeout(timer);
      const stale = req.reusedSocket && !answered && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
      reject(stale ? new StaleConnection(error.message, { cause: error }) : error);
    };
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxAnswerBytes) req.destroy(new AnswerTooLarge());
          else chunks.push(chunk);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', fail);
      },
    );
    const timer = setTimeout(() => req.destroy(new AgentTimeout()), timeoutMs);
    req.on('error', fail);
    req.end(body);
  });
}

const failed = (code: 'agent_failed' | 'agent_timeout', message: string, cause?: unknown): AgentAnswer => ({
  ok: false,
  code,
  message,
  ...(cause === undefined ? {} : { cause }),
});
