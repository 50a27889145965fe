/**
 * Local stand-in for App Service Authentication's browser endpoints, so the web app signs in the
 * same way on `npm start` as in Azure: `/.auth/login/<provider>?post_login_redirect_uri=/path`
 * shows a dev sign-in form (any name; there is no identity provider locally), `/.auth/logout`
 * signs out, `/.auth/me` says who is signed in. The session is a cookie holding the principal;
 * the local host turns it into the `x-ms-client-principal*` headers Easy Auth would inject. Only
 * served in the local host's explicit dev identity mode.
 */
import { principalHeaders } from './identity.ts';

export const DEV_SESSION_COOKIE = 'AppServiceAuthSession';
const DEV_IDP = 'dev';

export interface DevSession {
  id: string;
  name: string;
}

export interface DevAuthAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A same-origin path to go to after sign-in or sign-out; anything else (e.g. //evil.example) is "/". */
function localTarget(value: string | null): string {
  return value && value.startsWith('/') && !value.startsWith('//') && !value.includes('\\') ? value : '/';
}

function cookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

/** The signed-in dev user of a request, from its session cookie. */
export function devSession(cookieHeader: string | undefined): DevSession | null {
  const raw = cookies(cookieHeader).get(DEV_SESSION_COOKIE);
  if (!raw) return null;
  try {
    const s = JSON.parse(Buffer.from(decodeURIComponent(raw), 'base64url').toString('utf8')) as Partial<DevSession>;
    return typeof s.id === 'string' && typeof s.name === 'string' ? { id: s.id, name: s.name } : null;
  } catch {
    return null;
  }
}

/** The Easy Auth headers for a dev session. */
export function devSessionHeaders(session: DevSession): Record<string, string> {
  return principalHeaders(session.id, session.name, DEV_IDP);
}

/** A user id from a typed name: `dev-` and the name's letters and digits. */
export function devUserId(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return `dev-${slug || 'user'}`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function signInPage(target: string, provider: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in (local development)</title><link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>body{font:16px/1.5 system-ui,sans-serif;background:#111318;color:#e8e8ec;display:grid;place-items:center;min-height:100vh;margin:0}
form{background:#1b1e26;padding:2rem;border-radius:12px;max-width:22rem;width:calc(100% - 3rem)}h1{font-size:1.25rem;margin:0 0 .5rem}
p{color:#a9adbb;font-size:.9rem}label{display:block;margin:1rem 0 .25rem}input{width:100%;box-sizing:border-box;padding:.6rem;border-radius:8px;border:1px solid #3a3f4d;background:#111318;color:inherit;font:inherit}
button{margin-top:1rem;width:100%;padding:.7rem;border:0;border-radius:8px;background:#7c5cff;color:#fff;font:inherit;font-weight:600;cursor:pointer}</style></head>
<body><form method="post" action="/.auth/login/${escapeHtml(provider)}?post_login_redirect_uri=${encodeURIComponent(target)}">
<h1>Sign in — local development</h1><p>There is no identity provider on this machine. In Azure this page is Microsoft Entra ID's sign-in. Any name signs you in as a test user.</p>
<label for="name">Name</label><input id="name" name="name" required maxlength="60" autofocus autocomplete="username" value="">
<button type="submit">Sign in</button></form></body></html>`;
}

/**
 * Answers a request under /.auth, or null when the path is not one of these endpoints. `form` is
 * the url-encoded body of a POST.
 */
export function devAuthAnswer(method: string, url: URL, cookieHeader: string | undefined, form: string): DevAuthAnswer | null {
  const path = url.pathname.toLowerCase();
  const login = /^\/\.auth\/login\/([a-z0-9]+)$/.exec(path);
  if (login) {
    const target = localTarget(url.searchParams.get('post_login_redirect_uri'));
    if (method === 'GET')
      return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }, body: signInPage(target, login[1]) };
    if (method !== 'POST') return { status: 405, headers: { allow: 'GET, POST' }, body: '' };
    const name = (new URLSearchParams(form).get('name') ?? '').trim().slice(0, 60) || 'Test user';
    const value = Buffer.from(JSON.stringify({ id: devUserId(name), name } satisfies DevSession)).toString('base64url');
    return {
      status: 302,
      headers: {
        location: target,
        'set-cookie': `${DEV_SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax`,
      },
      body: '',
    };
  }
  if (path === '/.auth/logout')
    return {
      status: 302,
      headers: {
        location: localTarget(url.searchParams.get('post_logout_redirect_uri')),
        'set-cookie': `${DEV_SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`,
      },
      body: '',
    };
  if (path === '/.auth/me') {
    const s = devSession(cookieHeader);
    const me = s
      ? [{ provider_name: DEV_IDP, user_id: s.id, user_claims: [{ typ: 'name', val: s.name }] }]
      : [];
    return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }, body: JSON.stringify(me) };
  }
  return null;
}
