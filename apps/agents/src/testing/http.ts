/** Test helpers: talk to the agent server the way a marketplace does, over real HTTP. */
export const ALICE = 'AliceWa11et1111111111111111111111111111111';
export const BOB = 'BobWa11et11111111111111111111111111111111';

export interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** A full Tetto wire envelope, as the marketplace sends it. */
export function envelope(input: unknown, callerWallet: unknown = ALICE): string {
  return JSON.stringify({
    input,
    tetto_context: {
      caller_wallet: callerWallet,
      caller_agent_id: null,
      intent_id: crypto.randomUUID(),
      timestamp: Date.now(),
      version: '1.0',
    },
  });
}

export async function send(url: string, init: RequestInit = {}): Promise<Reply> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    ...init,
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Reply['body'],
  };
}

/** Calls one agent as one caller: `call(input)`. */
export function caller(url: string, callerWallet: string = ALICE): (input: unknown) => Promise<Reply> {
  return (input) => send(url, { body: envelope(input, callerWallet) });
}
