import { AppError } from '@tdk/core';
import { z } from 'zod';
import { publicProcedure } from '../trpc';
import { agentDto, ZAgent } from './schemas';

export const listAgents = publicProcedure
  .meta({
    openapi: {
      method: 'GET',
      path: '/tdk/agents',
      tags: ['agents'],
      summary: 'Agents you can call',
      description:
        'Every active agent with its price, what a call costs you on each tier, and its input/output JSON Schemas.',
      protect: false,
    },
  })
  .input(z.void())
  .output(z.object({ items: z.array(ZAgent) }))
  .query(async ({ ctx }) => ({
    items: (await ctx.services.marketplace.listAgents()).map((agent) => agentDto(agent, ctx.services.tiers)),
  }));

export const getAgent = publicProcedure
  .meta({
    openapi: {
      method: 'GET',
      path: '/tdk/agents/{id}',
      tags: ['agents'],
      summary: 'One agent, by id or name',
      description: 'An active agent; a disabled or unknown one answers 404 agent_not_found.',
      protect: false,
    },
  })
  .input(z.object({ id: z.string().max(200) }))
  .output(ZAgent)
  .query(async ({ ctx, input }) => {
    const agent = await ctx.services.marketplace.getAgent(input.id);
    // A disabled agent is unknown here, as in the list, on POST /v1/call and on GET /api/agents/{id};
    // admins see it through their own registry procedures.
    if (!agent || agent.status !== 'active')
      throw new AppError('agent_not_found', `No agent ${JSON.stringify(input.id)}.`);
    return agentDto(agent, ctx.services.tiers);
  });
