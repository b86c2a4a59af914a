import type { Route } from './route';

/** A compiled route: its path split into literal segments and parameter names. */
interface Compiled {
  route: Route;
  segments: { literal?: string; param?: string }[];
}

export type Match = { route: Route; params: Record<string, string> } | { allowed: string[] } | undefined;

const PARAM = /^\{([A-Za-z][A-Za-z0-9]*)\}$/;

/**
 * Matches a request path to a route. Literal segments win over parameters (`/v1/products/search` before
 * `/v1/products/{productId}`). A path that exists under another method answers with the allowed methods (405).
 */
export function createRouter(routes: readonly Route[]): (method: string, path: string) => Match {
  const compiled: Compiled[] = routes.map((route) => ({
    route,
    segments: route.path
      .split('/')
      .slice(1)
      .map((s) => {
        const param = PARAM.exec(s)?.[1];
        return param ? { param } : { literal: s };
      }),
  }));
  // More literal segments first, so the most specific template is tried before a parameterised one.
  compiled.sort(
    (a, b) => b.segments.filter((s) => s.literal !== undefined).length - a.segments.filter((s) => s.literal).length,
  );
  const seen = new Set<string>();
  for (const c of compiled) {
    const key = `${c.route.method} ${c.segments.map((s) => s.literal ?? '{}').join('/')}`;
    if (seen.has(key)) throw new Error(`two routes for ${key}`);
    seen.add(key);
  }

  const matchPath = (c: Compiled, parts: string[]): Record<string, string> | undefined => {
    if (c.segments.length !== parts.length) return undefined;
    const params: Record<string, string> = {};
    for (let i = 0; i < parts.length; i += 1) {
      const segment = c.segments[i];
      const part = parts[i] ?? '';
      if (!segment) return undefined;
      if (segment.literal !== undefined) {
        if (segment.literal !== part) return undefined;
      } else {
        let value: string;
        try {
          value = decodeURIComponent(part);
        } catch {
          return undefined;
        }
        if (value.length === 0) return undefined;
        params[segment.param as string] = value;
      }
    }
    return params;
  };

  return (method, path) => {
    const parts = path.split('/').slice(1);
    const allowed: string[] = [];
    for (const c of compiled) {
      const params = matchPath(c, parts);
      if (!params) continue;
      if (c.route.method === method) return { route: c.route, params };
      allowed.push(c.route.method);
    }
    return allowed.length > 0 ? { allowed } : undefined;
  };
}
