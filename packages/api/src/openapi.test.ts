import { describe, expect, it } from 'vitest';
import { createOpenApiDocument } from './openapi';

describe('OpenAPI document', () => {
  const doc = createOpenApiDocument({ version: '1.2.3', serverUrl: '/api' });

  it('is OpenAPI 3.1 with bearer auth and the public paths', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe('1.2.3');
    expect(doc.components?.securitySchemes?.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths?.['/tdk/info']?.get?.operationId).toBeDefined();
  });

  it('points every error response at the one documented error body', () => {
    const errorResponses = Object.values(doc.paths ?? {}).flatMap((item) =>
      Object.values(item).flatMap((op) =>
        Object.entries((op as { responses: Record<string, { content: unknown }> }).responses).filter(
          ([status]) => Number(status) >= 400 || status === 'default',
        ),
      ),
    );
    expect(errorResponses.length).toBeGreaterThan(0);
    for (const [, response] of errorResponses) {
      expect(response.content).toEqual({
        'application/json': { schema: { $ref: '#/components/schemas/Error' } },
      });
    }
  });

  it('documents the call as REST clients meet it: its Idempotency-Key, 200 or 202, rate-limit and replay headers', () => {
    const call = doc.paths?.['/tdk/v1/call']?.post;
    expect(call?.parameters).toEqual([
      expect.objectContaining({
        in: 'header',
        name: 'Idempotency-Key',
        schema: expect.objectContaining({ maxLength: 255 }),
      }),
    ]);
    const json = (status: string) => call?.responses?.[status]?.content?.['application/json']?.schema;
    expect(json('200')).toEqual({ $ref: '#/components/schemas/CallResult' });
    expect(json('202')).toEqual({ $ref: '#/components/schemas/CallAccepted' });
    expect(Object.keys(call?.responses?.['200']?.headers ?? {})).toEqual([
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
      'Idempotent-Replayed',
    ]);
    expect(call?.responses?.['429']?.headers).toHaveProperty('Retry-After');
  });

  it('documents the errors thrown inside procedures and by the host, with rate-limit headers on 429', () => {
    for (const [path, item] of Object.entries(doc.paths ?? {})) {
      if (path === '/tdk/webhooks/stripe') continue;
      for (const op of Object.values(item) as Array<{
        security?: unknown;
        responses: Record<string, unknown>;
      }>) {
        expect(Object.keys(op.responses), path).toEqual(expect.arrayContaining(['500', '503']));
        if (op.security) expect(Object.keys(op.responses), path).toContain('429');
      }
    }
    const login = doc.paths?.['/tdk/auth/login']?.post;
    expect(Object.keys(login?.responses ?? {})).toEqual(expect.arrayContaining(['401', '403', '429']));
    expect(Object.keys(login?.responses?.['429']?.headers ?? {})).toEqual([
      'Retry-After',
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
    ]);
    expect(Object.keys(doc.paths?.['/tdk/keys/{id}/revoke']?.post?.responses ?? {})).toContain('404');
  });

  it('documents the call events stream, served outside tRPC, with the event it sends', () => {
    const events = doc.paths?.['/tdk/v1/calls/{id}/events']?.get;
    expect(Object.keys(events?.responses ?? {})).toEqual([
      '200',
      '204',
      '400',
      '401',
      '403',
      '404',
      '429',
      '500',
      '503',
    ]);
    expect(events?.responses?.['200']?.content).toHaveProperty('text/event-stream');
    expect(doc.components?.schemas?.CallEvent).toMatchObject({
      properties: { result: { $ref: '#/components/schemas/CallResult' } },
    });
    expect(doc.components?.schemas?.CallResult).toBeDefined();
  });
});
