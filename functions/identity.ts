import { HttpError } from './errors.ts';

/**
 * Who is calling, from App Service Authentication ("Easy Auth") headers. The platform strips these
 * headers from incoming requests and sets them itself only when authentication is on for the site,
 * so they are trusted only when both infra (AUTH_ENABLED=true) and the platform
 * (WEBSITE_AUTH_ENABLED=true) say it is on, or in the local host's explicit dev mode; otherwise
 * anyone could claim any identity, so every request is anonymous (fail closed).
 */
export interface Principal {
  /** Stable user id (the Entra object id in Azure): the Cosmos document id of the user. */
  id: string;
  name: string | null;
  identityProvider: string | null;
}

/** Headers the platform sets for a signed-in user. */
export const PRINCIPAL_HEADER = 'x-ms-client-principal';
export const PRINCIPAL_ID_HEADER = 'x-ms-client-principal-id';
export const PRINCIPAL_NAME_HEADER = 'x-ms-client-principal-name';
export const PRINCIPAL_IDP_HEADER = 'x-ms-client-principal-idp';

/** Ids usable as Cosmos ids and partition keys: no '/', '\\', '?', '#', bounded length. */
const USER_ID = /^[A-Za-z0-9][A-Za-z0-9._@:+=-]{0,127}$/;

const ID_CLAIMS = [
  'http://schemas.microsoft.com/identity/claims/objectidentifier',
  'oid',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier',
  'sub',
];
const NAME_CLAIMS = [
  'name',
  'preferred_username',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
];

interface ClientPrincipal {
  auth_typ?: string;
  name_typ?: string;
  claims?: { typ?: string; val?: string }[];
}

/**
 * Whether the platform authenticates requests: AUTH_ENABLED=true (infra configured an Entra app)
 * and WEBSITE_AUTH_ENABLED=true (App Service says Easy Auth is on, so client-sent copies of the
 * headers are stripped). Anything else, unset included, is "not trusted".
 */
export function platformAuthEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.AUTH_ENABLED?.toLowerCase() === 'true' && env.WEBSITE_AUTH_ENABLED?.toLowerCase() === 'true';
}

/** Standard padded base64 only (what Easy Auth writes); Buffer.from would skip junk and accept base64url. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function malformed(): HttpError {
  return new HttpError(401, `malformed ${PRINCIPAL_HEADER} header`);
}

function decodePrincipal(value: string): ClientPrincipal {
  if (!BASE64.test(value)) throw malformed();
  let parsed: unknown;
  try {
    parsed = JSON.parse(UTF8.decode(Buffer.from(value, 'base64')));
  } catch {
    throw malformed();
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw malformed();
  const p = parsed as Record<string, unknown>;
  for (const key of ['auth_typ', 'name_typ'])
    if (p[key] !== undefined && typeof p[key] !== 'string') throw malformed();
  if (p.claims !== undefined) {
    if (!Array.isArray(p.claims)) throw malformed();
    for (const c of p.claims as unknown[]) {
      const claim = c as { typ?: unknown; val?: unknown } | null;
      if (claim === null || typeof claim !== 'object' || typeof claim.typ !== 'string' || typeof claim.val !== 'string')
        throw malformed();
    }
  }
  return p as ClientPrincipal;
}

function claim(p: ClientPrincipal | null, types: string[]): string | null {
  const claims = p?.claims ?? [];
  for (const t of types) {
    const c = claims.find((x) => x.typ === t && x.val !== '');
    if (c) return c.val as string;
  }
  return null;
}

/**
 * The caller, or null when anonymous or when identity headers are not trusted. A principal that is
 * present but unusable (bad base64/JSON, an id that cannot be a document id) is a 401.
 */
export function readPrincipal(headers: Headers, trusted: boolean): Principal | null {
  if (!trusted) return null;
  const encoded = headers.get(PRINCIPAL_HEADER);
  const principal = encoded ? decodePrincipal(encoded) : null;
  const id = headers.get(PRINCIPAL_ID_HEADER) || claim(principal, ID_CLAIMS);
  if (!id) {
    if (principal) throw new HttpError(401, `${PRINCIPAL_HEADER} carries no user id`);
    return null;
  }
  if (!USER_ID.test(id)) throw new HttpError(401, 'unusable user id in the identity headers');
  const nameTyp = principal?.name_typ;
  return {
    id,
    name:
      headers.get(PRINCIPAL_NAME_HEADER) ||
      claim(principal, nameTyp ? [nameTyp, ...NAME_CLAIMS] : NAME_CLAIMS),
    identityProvider: headers.get(PRINCIPAL_IDP_HEADER) || (principal?.auth_typ ?? null),
  };
}

/** Builds the headers Easy Auth would send for a user (tests, local dev tools). */
export function principalHeaders(id: string, name = id, idp = 'aad'): Record<string, string> {
  const principal = {
    auth_typ: idp,
    name_typ: 'name',
    role_typ: 'roles',
    claims: [
      { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: id },
      { typ: 'name', val: name },
    ],
  };
  return {
    [PRINCIPAL_HEADER]: Buffer.from(JSON.stringify(principal)).toString('base64'),
    [PRINCIPAL_ID_HEADER]: id,
    [PRINCIPAL_NAME_HEADER]: name,
    [PRINCIPAL_IDP_HEADER]: idp,
  };
}
