import type { AppRouter, ErrorShapeData } from '@tdk/api';
import {
  createTRPCClient,
  httpBatchLink,
  httpSubscriptionLink,
  splitLink,
  TRPCClientError,
} from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';

/**
 * The typed client of the server's router (a type-only import: no server code reaches the bundle).
 * Signed in by the HttpOnly session cookie; every request carries the CSRF header the server asks of
 * cookie-authenticated writes. Subscriptions (a call's live status) arrive as Server-Sent Events.
 */
export const trpc = createTRPCClient<AppRouter>({
  links: [
    splitLink({
      condition: (op) => op.type === 'subscription',
      true: httpSubscriptionLink({ url: '/trpc' }),
      // The server refuses a batch of more than 20 calls (`trpcMaxBatchSize`): larger ones are split.
      false: httpBatchLink({ url: '/trpc', headers: { 'x-tdk-csrf': '1' }, maxItems: 20 }),
    }),
  ],
});

export type Inputs = inferRouterInputs<AppRouter>;
export type Outputs = inferRouterOutputs<AppRouter>;

interface ErrorInfo {
  code: string;
  message: string;
  requestId: string | undefined;
  details: Record<string, unknown> | undefined;
}

/** Our stable error code and message from anything a procedure threw (or the network). */
export function errorInfo(error: unknown): ErrorInfo {
  if (error instanceof TRPCClientError) {
    const data = error.data as Partial<ErrorShapeData> | undefined;
    return {
      code: data?.code ?? 'network_error',
      message: error.message,
      requestId: data?.requestId,
      details: data?.details,
    };
  }
  return {
    code: 'unknown',
    message: error instanceof Error ? error.message : String(error),
    requestId: undefined,
    details: undefined,
  };
}
