import { randomUUID } from 'node:crypto';
import { AppError } from '@tdk/core';
import type { Database } from '@tdk/db';
import { isUniqueViolation } from '@tdk/db';
import { agentListing, createSchemaValidator } from '@tdk/marketplace';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { recordAudit } from '../audit/record';
import { adminProcedure } from '../trpc';
import { agentDto, ZAgent } from './schemas';

const ZJsonSchema = z.record(z.string(), z.unknown());
const ZAgentFields = z.strictObject({
  name: z
    .string()
    .trim()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes'),
  description: z.string().max(2_000),
  endpoint_url: z.url({ protocol: /^https?$/ }),
  // Digits or a JSON number, at most 2^53 − 1 either way: agents list it as a JSON integer.
  price_base: z
    .union([
      z
        .string()
        .regex(/^[1-9]\d{0,15}$/)
        .refine((digits) => BigInt(digits) <= BigInt(Number.MAX_SAFE_INTEGER), 'at most 2^53 − 1'),
      z.number().int().positive(),
    ])
    .describe('USDC base units'),
  owner_wallet: z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, 'a base58 Solana address'),
  fee_bps: z.number().int().min(0).max(10_000).default(1000),
  agent_type: z.enum(['simple', 'complex', 'coordinator']).default('simple'),
  timeout_ms: z.number().int().min(100).max(600_000).nullable().optional(),
  input_schema: ZJsonSchema,
  output_schema: ZJsonSchema,
  example_inputs: z.array(z.unknown()).max(20).default([]),
});

const validator = createSchemaValidator();

/** A schema that ajv cannot compile is refused at registration, not discovered at the first call. */
function assertSchemasCompile(fields: {
  input_schema?: Record<string, unknown>;
  output_schema?: Record<string, unknown>;
}) {
  for (const name of ['input_schema', 'output_schema'] as const) {
    const schema = fields[name];
    if (!schema) continue;
    try {
      validator.validate(schema, null);
    } catch (error) {
      throw new AppError('invalid_input', `${name} is not a valid JSON Schema: ${(error as Error).message}`);
    }
  }
}

/** The name is unique in the registry: taking one another agent has is the caller's conflict, not a fault. */
const nameTaken =
  (name: string | undefined) =>
  (error: unknown): never => {
    throw isUniqueViolation(error)
      ? new AppError('conflict', `An agent named ${name} exists already.`)
      : error;
  };

export type AgentRegistration = z.input<typeof ZAgentFields>;
type AgentFields = z.output<typeof ZAgentFields>;

/** Registry columns from (some of) the fields: JSON as text, the price as an integer string. */
function columnsOf(fields: Partial<AgentFields>) {
  const { price_base, timeout_ms, input_schema, output_schema, example_inputs, ...plain } = fields;
  return {
    ...plain,
    ...(price_base !== undefined ? { price_base: String(price_base) } : {}),
    ...(timeout_ms !== undefined ? { timeout_ms } : {}),
    ...(input_schema ? { input_schema: JSON.stringify(input_schema) } : {}),
    ...(output_schema ? { output_schema: JSON.stringify(output_schema) } : {}),
    ...(example_inputs ? { example_inputs: JSON.stringify(example_inputs) } : {}),
  };
}

const insertValues = (fields: AgentFields) => ({
  ...fields,
  id: randomUUID(),
  price_base: String(fields.price_base),
  timeout_ms: fields.timeout_ms ?? null,
  input_schema: JSON.stringify(fields.input_schema),
  output_schema: JSON.stringify(fields.output_schema),
  example_inputs: JSON.stringify(fields.example_inputs),
});

/** Registers (or, by name, replaces) an agent without an actor: the embedded default's example agents at start. */
export async function upsertAgent(db: Kysely<Database>, registration: AgentRegistration): Promise<string> {
  const fields = ZAgentFields.parse(registration);
  assertSchemasCompile(fields);
  const { id: _id, ...changes } = insertValues(fields);
  const row = await db
    .insertInto('agent')
    .values(insertValues(fields))
    .onConflict((oc) => oc.column('name').doUpdateSet({ ...changes, updated_at: new Date() }))
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export const registerAgent = adminProcedure
  .meta({
    openapi: {
      method: 'POST',
      path: '/tdk/admin/agents',
      tags: ['admin'],
      summary: 'Register an agent (admin)',
    },
  })
  .input(ZAgentFields)
  .output(ZAgent)
  .mutation(async ({ ctx, input }) => {
    assertSchemasCompile(input);
    const row = await ctx.services.db
      .transaction()
      .execute(async (trx) => {
        const row = await trx
          .insertInto('agent')
          .values(insertValues(input))
          .returningAll()
          .executeTakeFirstOrThrow();
        await recordAudit(trx, ctx, {
          actor: { type: 'user', id: ctx.user.id },
          action: 'agent.registered',
          target: { type: 'agent', id: row.id },
          details: { name: input.name, price_base: String(input.price_base) },
        });
        return row;
      })
      .catch(nameTaken(input.name));
    return agentDto(agentListing(row, ctx.services.chain), ctx.services.tiers);
  });

export const updateAgent = adminProcedure
  .meta({
    openapi: {
      method: 'PATCH',
      path: '/tdk/admin/agents/{id}',
      tags: ['admin'],
      summary: 'Change or disable an agent (admin)',
    },
  })
  .input(
    ZAgentFields.omit({ fee_bps: true, agent_type: true, example_inputs: true })
      .partial()
      .extend({
        id: z.uuid(),
        status: z.enum(['active', 'disabled']).optional(),
        fee_bps: z.number().int().min(0).max(10_000).optional(),
        agent_type: z.enum(['simple', 'complex', 'coordinator']).optional(),
        example_inputs: z.array(z.unknown()).max(20).optional(),
      }),
  )
  .output(ZAgent)
  .mutation(async ({ ctx, input }) => {
    const { id, status, ...fields } = input;
    assertSchemasCompile(fields);
    const row = await ctx.services.db
      .transaction()
      .execute(async (trx) => {
        const updated = await trx
          .updateTable('agent')
          .set({ ...columnsOf(fields), ...(status ? { status } : {}), updated_at: new Date() })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirst();
        if (!updated) throw new AppError('agent_not_found', `No agent ${id}.`);
        await recordAudit(trx, ctx, {
          actor: { type: 'user', id: ctx.user.id },
          action: status === 'disabled' ? 'agent.disabled' : 'agent.updated',
          target: { type: 'agent', id },
          details: { fields: Object.keys(input).filter((k) => k !== 'id') },
        });
        return updated;
      })
      .catch(nameTaken(fields.name));
    // Built from the updated row: the marketplace may serve a listing read up to a second ago.
    return agentDto(agentListing(row, ctx.services.chain), ctx.services.tiers);
  });
