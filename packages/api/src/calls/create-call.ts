import { AppError } from '@tdk/core';
import { z } from 'zod';
import { apiKeyProcedure } from '../trpc';
import { callAgent } from './call-agent';
import { ZCallAccepted, ZCallAnswer, ZCallRequest } from './schemas';

/** `POST /api/tdk/v1/call`: the product's main endpoint. (`call` is reserved in tRPC, hence `create`.) */
export const createCall = apiKeyProcedure
  .meta({
    openapi: {
      method: 'POST',
      path: '/tdk/v1/call',
      tags: ['calls'],
      summary: 'Call an agent',
      description:
        "Pays the agent from your key's wallet and returns its output, the cost and the payment proof. Send an `Idempotency-Key` header to make retries safe: the same key and body replay the stored answer without paying again; the same key with another body is a 409. With `async: true` the request is checked at once (the same 4xx errors), then answered **202** with the queued call; follow it at `links.self` or stream its status changes from `links.events`.",
      successDescription: 'The result',
      requestHeaders: z.object({
        'Idempotency-Key': z
          .string()
          .min(1)
          .max(255)
          .optional()
          .describe(
            'Any unique string (1–255 visible ASCII characters), e.g. a UUID. A retry with the same key and body replays the first answer and pays once.',
          ),
      }),
      responseHeaders: z.object({
        'RateLimit-Limit': z.string().describe("Calls per minute this key's tier allows"),
        'RateLimit-Remaining': z.string().describe('Calls left in the current minute'),
        'RateLimit-Reset': z.string().describe('Seconds until the allowance is whole again'),
        'Idempotent-Replayed': z
          .literal('true')
          .optional()
          .describe(
            'Present on the answer to a retry: the earlier call with this Idempotency-Key, replayed; nothing was paid again',
          ),
      }),
      errorResponses: {
        400: 'Invalid input (nothing was paid)',
        401: 'Missing, unknown, revoked or expired API key',
        402: 'Quota, spend cap or funds exhausted',
        404: 'Unknown agent',
        409: 'Idempotency conflict',
        429: 'Rate limited',
        502: 'The agent failed after payment (recorded, not billed)',
        504: 'The agent timed out after payment (recorded, not billed)',
      },
    },
  })
  .input(ZCallRequest)
  .output(z.union([ZCallAnswer, ZCallAccepted]))
  .mutation(async ({ ctx, input }) => {
    if (ctx.idempotencyKey !== undefined && !/^[\x21-\x7e]{1,255}$/.test(ctx.idempotencyKey)) {
      throw new AppError(
        'invalid_input',
        'The Idempotency-Key header must be 1–255 visible ASCII characters.',
      );
    }
    const { answer, headers } = await callAgent(ctx.services, ctx.apiKey, {
      agentId: input.agent_id,
      input: input.input,
      idempotencyKey: ctx.idempotencyKey,
      async: input.async,
    });
    Object.assign(ctx.responseHeaders, headers);
    if (answer.status === 'queued') ctx.responseStatus.code = 202;
    return answer;
  });
