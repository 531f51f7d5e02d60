import { describe, expect, it } from 'vitest';
import { createRouteLabeler } from './route-label';

describe('route labels', () => {
  const label = createRouteLabeler({
    fixed: ['/healthz'],
    restTemplates: [{ method: 'get', path: '/api/tdk/v1/calls/{id}' }],
    trpcProcedures: ['system.info'],
  });

  it('uses templates, not raw paths', () => {
    expect(label('GET', '/healthz')).toBe('/healthz');
    expect(label('GET', '/api/tdk/v1/calls/call_123')).toBe('/api/tdk/v1/calls/{id}');
    expect(label('POST', '/api/tdk/v1/calls/call_123')).toBe('unmatched');
    expect(label('GET', '/trpc/system.info')).toBe('/trpc/system.info');
    expect(label('GET', '/trpc/a,b')).toBe('/trpc/batch');
    expect(label('GET', '/docs/swagger-ui.css')).toBe('/docs');
  });

  it('folds unknown paths into one label', () => {
    expect(label('GET', '/wp-admin/1')).toBe('unmatched');
    expect(label('GET', '/trpc/nope')).toBe('/trpc/unmatched');
  });
});
