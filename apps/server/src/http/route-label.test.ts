import { describe, expect, it } from 'vitest';
import { createRouteTable } from './route-label';

describe('the route table', () => {
  const routes = createRouteTable({
    fixed: ['/healthz'],
    restTemplates: [
      { method: 'get', path: '/api/tdk/v1/calls/{id}' },
      { method: 'get', path: '/api/tdk/keys/{id}' },
      { method: 'patch', path: '/api/tdk/keys/{id}' },
    ],
    trpcProcedures: ['system.info'],
  });

  it('labels by templates, not raw paths', () => {
    expect(routes.label('GET', '/healthz')).toBe('/healthz');
    expect(routes.label('GET', '/api/tdk/v1/calls/call_123')).toBe('/api/tdk/v1/calls/{id}');
    expect(routes.label('POST', '/api/tdk/v1/calls/call_123')).toBe('unmatched');
    expect(routes.label('GET', '/trpc/system.info')).toBe('/trpc/system.info');
    expect(routes.label('GET', '/trpc/a,b')).toBe('/trpc/batch');
    expect(routes.label('GET', '/docs/swagger-ui.css')).toBe('/docs');
  });

  it('folds unknown paths into one label', () => {
    expect(routes.label('GET', '/wp-admin/1')).toBe('unmatched');
    expect(routes.label('GET', '/trpc/nope')).toBe('/trpc/unmatched');
  });

  it('names the methods a path answers, and none for a path no route has', () => {
    expect(routes.methodsAt('/api/tdk/keys/key_1')).toEqual(['GET', 'PATCH']);
    expect(routes.methodsAt('/api/tdk/keys/key_1/nope')).toEqual([]);
  });
});
