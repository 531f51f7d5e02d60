/** What the server knows of its routes, from the OpenAPI templates and the tRPC procedures. */
export interface RouteTable {
  /**
   * The route template a concrete request matched, for metric labels: REST paths by their template
   * (`/api/tdk/v1/calls/{id}`), tRPC by procedure name, anything else `unmatched`, so random URLs
   * cannot blow up the number of series.
   */
  label(method: string, path: string): string;
  /** The methods a REST path answers (`Allow` of a 405); none for a path no route has. */
  methodsAt(path: string): string[];
}

export function createRouteTable(options: {
  fixed: string[];
  restTemplates: Array<{ method: string; path: string }>;
  trpcProcedures: string[];
}): RouteTable {
  const fixed = new Set(options.fixed);
  const rest = options.restTemplates.map(({ method, path }) => ({
    method: method.toUpperCase(),
    path,
    pattern: new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}/?$`),
  }));
  const procedures = new Set(options.trpcProcedures);
  return {
    label(method, path) {
      if (fixed.has(path)) return path;
      if (path.startsWith('/docs')) return '/docs';
      if (path.startsWith('/trpc/')) {
        const name = path.slice('/trpc/'.length);
        if (name.includes(',')) return '/trpc/batch';
        return procedures.has(name) ? `/trpc/${name}` : '/trpc/unmatched';
      }
      const hit = rest.find((r) => r.method === method && r.pattern.test(path));
      return hit ? hit.path : 'unmatched';
    },
    methodsAt(path) {
      return [...new Set(rest.filter((r) => r.pattern.test(path)).map((r) => r.method))];
    },
  };
}
