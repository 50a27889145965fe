/**
 * Azure Functions route templates ("songs/{id}/similar", optional last parameter "{id?}",
 * constraints "{id:alpha}" accepted and ignored) matched against request paths, for the local host,
 * and converted to OpenAPI paths. Literal segments win over parameters, as in the Functions host.
 */
export interface CompiledRoute {
  template: string;
  /** Parameter names in order. */
  params: string[];
  /** Literal segments count, for precedence (more literals first). */
  literals: number;
  match(path: string): Record<string, string> | null;
}

const PARAM = /^\{([A-Za-z_][A-Za-z0-9_]*)(:[^}?]+)?(\?)?\}$/;

export function compileRoute(template: string): CompiledRoute {
  const segments = template.split('/').filter((s) => s !== '');
  const params: string[] = [];
  let literals = 0;
  const parts = segments.map((segment, i) => {
    const m = PARAM.exec(segment);
    if (!m) {
      if (segment.includes('{') || segment.includes('}'))
        throw new Error(`unsupported route segment "${segment}" in ${template}`);
      literals++;
      return { literal: segment.toLowerCase() };
    }
    if (m[3] && i !== segments.length - 1) throw new Error(`optional parameter must be last in ${template}`);
    params.push(m[1]);
    return { param: m[1], optional: Boolean(m[3]) };
  });
  return {
    template,
    params,
    literals,
    match(path: string) {
      const got = path.split('/').filter((s) => s !== '');
      const last = parts[parts.length - 1];
      const min = last && 'param' in last && last.optional ? parts.length - 1 : parts.length;
      if (got.length < min || got.length > parts.length) return null;
      const values: Record<string, string> = {};
      for (let i = 0; i < got.length; i++) {
        const part = parts[i];
        let segment: string;
        try {
          segment = decodeURIComponent(got[i]);
        } catch {
          return null;
        }
        if ('literal' in part) {
          if (segment.toLowerCase() !== part.literal) return null;
        } else {
          values[part.param!] = segment;
        }
      }
      return values;
    },
  };
}

/** "songs/{id:alpha}/similar" → "/songs/{id}/similar" (optional parameters keep their name). */
export function openApiPath(template: string): string {
  const segments = template.split('/').filter((s) => s !== '');
  return (
    '/' +
    segments
      .map((s) => {
        const m = PARAM.exec(s);
        return m ? `{${m[1]}}` : s;
      })
      .join('/')
  );
}

/** The API's path prefix. host.json's routePrefix is "" (the web app lives at the root), so it is part of each route. */
export const API_PREFIX = 'api';
