/** The shell: header and navigation, the model-loading banner, the page for the path, the footer. */
import { useEffect, useState } from 'preact/hooks';
import type { Health } from './api/client.ts';
import { Account, SavedPage } from './pages/Account.tsx';
import { ApiDocs } from './pages/ApiDocs.tsx';
import { ArtistPage, DjPage, SongPage } from './pages/Entities.tsx';
import { Generate } from './pages/Generate.tsx';
import { Link, match, useLocation } from './router.tsx';
import { SessionProvider, useSession } from './session.tsx';

const HEALTH_POLL_MS = 30_000;
const HEALTH_POLL_LOADING_MS = 3_000;

function Page() {
  const { path } = useLocation();
  let m: Record<string, string> | null;
  if (path === '/' || path === '') return <Generate />;
  if ((m = match('/songs/:id', path))) return <SongPage id={m.id} />;
  if ((m = match('/artists/:id', path))) return <ArtistPage id={m.id} />;
  if ((m = match('/djs/:id', path))) return <DjPage id={m.id} />;
  if ((m = match('/saved/:id', path))) return <SavedPage id={m.id} />;
  if (path === '/account') return <Account />;
  if (path === '/docs') return <ApiDocs />;
  return (
    <div class="page">
      <h1>Not found</h1>
      <p>
        Nothing lives at <code>{path}</code>. <Link href="/">Generate a tracklist</Link> instead.
      </p>
    </div>
  );
}

function Header() {
  const session = useSession();
  const { path } = useLocation();
  const current = (p: string) => (path === p ? 'page' : undefined);
  return (
    <header class="top">
      <Link href="/" class="brand" aria-label="Tracklist AI home">
        <span class="logo" aria-hidden="true" />
        Tracklist AI
      </Link>
      <nav aria-label="Main">
        <Link href="/" aria-current={current('/')}>
          Generate
        </Link>
        <Link href="/docs" aria-current={current('/docs')}>
          API
        </Link>
        {session.me ? (
          <Link href="/account" aria-current={current('/account')}>
            {session.me.name ?? 'Account'}
          </Link>
        ) : (
          session.me === null && (
            <a href={session.signInUrl()} class="signin">
              Sign in
            </a>
          )
        )}
      </nav>
    </header>
  );
}

/** Shown while the API answers 503 (model loading, storage busy): the client retries by itself. */
function Banner({ health }: { health: Health | null }) {
  const { unavailable } = useSession();
  const loading = health !== null && health.model === null;
  if (!unavailable && !loading) return null;
  return (
    <div class="banner" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      {unavailable
        ? `The model is not ready yet (${unavailable.message}). Retrying in ${unavailable.retryIn} s…`
        : 'The model is loading. Requests will wait for it.'}
    </div>
  );
}

function Footer({ health }: { health: Health | null }) {
  return (
    <footer class="bottom">
      <span>
        {health === null
          ? 'Checking the service…'
          : health.model
            ? `Model ${health.model.version} · ${health.status}`
            : `No model loaded yet · ${health.status}`}
        {health?.error && health.status !== 'ok' && <span class="muted"> — {health.error}</span>}
      </span>
      <span>
        <Link href="/docs">API reference</Link> · <a href="/api/openapi.json">OpenAPI</a>
      </span>
    </footer>
  );
}

function useHealth(): Health | null {
  const { api } = useSession();
  const [health, setHealth] = useState<Health | null>(null);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout>;
    let live = true;
    const poll = async () => {
      let next = HEALTH_POLL_MS;
      try {
        const r = await api.client.GET('/health');
        // Not ready (no model can be served) is a 503 with the same body.
        const body = r.data ?? (r.response.status === 503 ? (r.error as Health | undefined) : undefined);
        if (body && live) {
          setHealth(body);
          if (!body.model) next = HEALTH_POLL_LOADING_MS;
        }
      } catch {
        next = HEALTH_POLL_LOADING_MS;
      }
      if (live) timer = setTimeout(poll, next);
    };
    void poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api]);
  return health;
}

function Shell() {
  const health = useHealth();
  return (
    <>
      <a href="#main" class="skip">
        Skip to content
      </a>
      <Header />
      <Banner health={health} />
      <main id="main">
        <Page />
      </main>
      <Footer health={health} />
    </>
  );
}

export function App() {
  return (
    <SessionProvider>
      <Shell />
    </SessionProvider>
  );
}
