/**
 * The API reference, rendered from the served OpenAPI document (GET /api/openapi.json): the same
 * document the typed client is generated from. Operations by tag with their parameters, body,
 * answers and sign-in needs; schemas resolved from the named components.
 */
import { useState } from 'preact/hooks';
import { ErrorNote, Loading, useAsync } from '../components/bits.tsx';

type Json = Record<string, unknown>;
interface Operation {
  method: string;
  path: string;
  op: Json;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

function refName(ref: string): string {
  return ref.replace('#/components/schemas/', '');
}

/** A compact type expression for a schema: `Song[]`, `string | null`, `{ id, name }`. */
function typeOf(schema: Json | undefined): string {
  if (!schema) return 'unknown';
  if (typeof schema.$ref === 'string') return refName(schema.$ref);
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Json[]).map(typeOf).join(' | ');
  if (Array.isArray(schema.enum)) return (schema.enum as unknown[]).map((v) => JSON.stringify(v)).join(' | ');
  if (schema.type === 'array') return `${typeOf(schema.items as Json)}[]`;
  if (schema.type === 'object' && schema.properties) return 'object';
  if (Array.isArray(schema.type)) return (schema.type as string[]).join(' | ');
  return typeof schema.type === 'string' ? schema.type : 'any';
}

function limits(schema: Json): string {
  const parts: string[] = [];
  if (schema.minimum !== undefined) parts.push(`≥ ${String(schema.minimum)}`);
  if (schema.exclusiveMinimum !== undefined) parts.push(`> ${String(schema.exclusiveMinimum)}`);
  if (schema.maximum !== undefined) parts.push(`≤ ${String(schema.maximum)}`);
  if (schema.exclusiveMaximum !== undefined) parts.push(`< ${String(schema.exclusiveMaximum)}`);
  if (schema.minItems !== undefined || schema.maxItems !== undefined)
    parts.push(schema.minItems === schema.maxItems ? `exactly ${String(schema.minItems)} items` : `${String(schema.minItems ?? 0)}–${String(schema.maxItems ?? '∞')} items`);
  if (schema.maxLength !== undefined) parts.push(`≤ ${String(schema.maxLength)} chars`);
  const items = schema.items as Json | undefined;
  if (items && typeof items === 'object' && !items.$ref) {
    const inner = limits(items);
    if (inner) parts.push(`each ${inner}`);
  }
  if (schema.default !== undefined) parts.push(`default ${JSON.stringify(schema.default)}`);
  return parts.join(', ');
}

function Properties({ schema, doc }: { schema: Json; doc: Json }) {
  const resolved = typeof schema.$ref === 'string' ? (((doc.components as Json).schemas as Json)[refName(schema.$ref)] as Json) : schema;
  const props = (resolved?.properties ?? {}) as Record<string, Json>;
  const required = new Set((resolved?.required as string[] | undefined) ?? []);
  if (Object.keys(props).length === 0) return <code>{typeOf(schema)}</code>;
  return (
    <table class="props">
      <tbody>
        {Object.entries(props).map(([name, p]) => (
          <tr key={name}>
            <th scope="row">
              <code>{name}</code>
              {required.has(name) ? '' : '?'}
            </th>
            <td>
              <code>{typeOf(p)}</code>
              {limits(p) && <span class="muted"> ({limits(p)})</span>}
              {typeof p.description === 'string' && <div class="desc">{p.description}</div>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function OperationView({ o, doc }: { o: Operation; doc: Json }) {
  const [open, setOpen] = useState(false);
  const params = (o.op.parameters as Json[] | undefined) ?? [];
  const body = ((o.op.requestBody as Json | undefined)?.content as Json | undefined)?.['application/json'] as Json | undefined;
  const responses = (o.op.responses ?? {}) as Record<string, Json>;
  const security = Array.isArray(o.op.security) ? (o.op.security as Json[]) : [];
  const signIn = security.length === 0 ? null : security.some((s) => Object.keys(s).length === 0) ? 'optional sign-in' : 'sign-in';
  return (
    <article class="op">
      <button type="button" class="op-head" aria-expanded={open} onClick={() => setOpen(!open)}>
        <span class={`method ${o.method}`}>{o.method.toUpperCase()}</span>
        <code class="path">/api{o.path}</code>
        <span class="summary">{String(o.op.summary ?? '')}</span>
        {signIn && <span class="badge">{signIn}</span>}
      </button>
      {open && (
        <div class="op-body">
          {typeof o.op.description === 'string' && <p>{o.op.description}</p>}
          <p class="muted small">
            operationId <code>{String(o.op.operationId)}</code>
          </p>
          {params.length > 0 && (
            <>
              <h4>Parameters</h4>
              <table class="props">
                <tbody>
                  {params.map((p) => (
                    <tr key={`${String(p.in)}-${String(p.name)}`}>
                      <th scope="row">
                        <code>{String(p.name)}</code>
                        {p.required ? '' : '?'} <span class="muted">{String(p.in)}</span>
                      </th>
                      <td>
                        <code>{typeOf(p.schema as Json)}</code>
                        {limits(p.schema as Json) && <span class="muted"> ({limits(p.schema as Json)})</span>}
                        {typeof p.description === 'string' && <div class="desc">{p.description}</div>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
          {body && (
            <>
              <h4>
                Body <code>{typeOf(body.schema as Json)}</code>
              </h4>
              <Properties schema={body.schema as Json} doc={doc} />
            </>
          )}
          <h4>Answers</h4>
          <ul class="answers">
            {Object.entries(responses).map(([status, r]) => {
              const content = (r.content ?? {}) as Record<string, Json>;
              const types = Object.entries(content).map(([t, c]) => `${t}: ${typeOf(c.schema as Json)}`);
              return (
                <li key={status}>
                  <code class={`status s${status[0]}`}>{status}</code> {String(r.description ?? '')}
                  {types.length > 0 && <span class="muted"> — {types.join(', ')}</span>}
                </li>
              );
            })}
          </ul>
        </div>
      )}
    </article>
  );
}

export function ApiDocs() {
  const doc = useAsync(async () => {
    const r = await fetch('/api/openapi.json');
    if (!r.ok) throw new Error(`the OpenAPI document answered ${r.status}`);
    return (await r.json()) as Json;
  }, []);
  if (doc.error) return <ErrorNote message={doc.error} />;
  if (!doc.data) return <Loading what="the API reference" />;
  const d = doc.data;
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(d.paths as Record<string, Json>))
    for (const method of METHODS) if (item[method]) ops.push({ method, path, op: item[method] as Json });
  const tags = (d.tags as { name: string; description?: string }[]) ?? [];
  const schemes = ((d.components as Json).securitySchemes ?? {}) as Record<string, Json>;
  return (
    <div class="page docs">
      <h1>API reference</h1>
      <p class="lead">{String((d.info as Json).description ?? '')}</p>
      <p>
        Base URL <code>/api</code> · OpenAPI {String(d.openapi)} document: <a href="/api/openapi.json">/api/openapi.json</a> (generate a client
        from it; this app's own client is generated from it).
      </p>
      <details class="card">
        <summary>Signing in</summary>
        <ul>
          {Object.entries(schemes).map(([name, s]) => (
            <li key={name}>
              <code>{name}</code>: {String(s.description ?? '')}
            </li>
          ))}
        </ul>
      </details>
      {tags.map((t) => (
        <section key={t.name} class="card">
          <header class="card-head">
            <h2>{t.name}</h2>
            {t.description && <span class="muted small">{t.description}</span>}
          </header>
          {ops
            .filter((o) => (o.op.tags as string[]).includes(t.name))
            .map((o) => (
              <OperationView key={`${o.method} ${o.path}`} o={o} doc={d} />
            ))}
        </section>
      ))}
    </div>
  );
}
