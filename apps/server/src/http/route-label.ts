/**
 * Maps a concrete request path to the route template it matched, for metric labels: REST paths by
 * the OpenAPI templates (`/api/tdk/v1/calls/{id}`), tRPC by procedure name, anything else as
 * `unmatched` so random URLs cannot blow up the number of series.
 */
export function createRouteLabeler(options: {
  fixed: string[];
  restTemplates: Array<{ method: string; path: string }>;
  trpcProcedures: string[];
}): (method: string, path: string) => string {
  const fixed = new Set(options.fixed);
  const rest = options.restTemplates.map(({ method, path }) => ({
    method: method.toUpperCase(),
    path,
    pattern: new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}/?$`),
  }));
  const procedures = new Set(options.trpcProcedures);
  return (method, path) => {
    if (fixed.has(path)) return path;
    if (path.startsWith('/docs')) return '/docs';
    if (path.startsWith('/trpc/')) {
      const name = path.slice('/trpc/'.length);
      if (name.includes(',')) return '/trpc/batch';
      return procedures.has(name) ? `/trpc/${name}` : '/trpc/unmatched';
    }
    const hit = rest.find((r) => r.method === method && r.pattern.test(path));
    return hit ? hit.path : 'unmatched';
  };
}
