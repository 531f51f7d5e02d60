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
});
