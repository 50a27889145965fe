/**
 * The signed-in user's page: sign in/out, liked songs (scores adjustable, removable), import,
 * recommendations from the likes, saved tracklists (open, rename, delete), and deleting the
 * account with everything in it. Also the page of one saved tracklist.
 */
import { useState } from 'preact/hooks';
import type { SavedTracklistSummary } from '../api/client.ts';
import { LIMITS } from '../../../shared/limits.ts';
import { errorText, ErrorNote, Loaded, Loading, Section, SongList, useAsync } from '../components/bits.tsx';
import { TracklistView } from '../components/TracklistView.tsx';
import { Link, navigate, songPath } from '../router.tsx';
import { useSession } from '../session.tsx';
import { ImportLikes } from './ImportLikes.tsx';

const savedPath = (id: string) => `/saved/${encodeURIComponent(id)}`;

function SignIn({ why }: { why: string }) {
  const session = useSession();
  return (
    <div class="page">
      <h1>Your account</h1>
      <p class="lead">{why}</p>
      <a class="button primary" href={session.signInUrl('/account')}>
        Sign in
      </a>
    </div>
  );
}

export function Account() {
  const session = useSession();
  if (session.me === undefined) return <Loading what="your account" />;
  if (session.me === null) return <SignIn why="Sign in to keep liked songs, get recommendations from them and save tracklists." />;
  const me = session.me;
  return (
    <div class="page account">
      <header class="page-head">
        <div>
          <h1>{me.name ?? 'Your account'}</h1>
          <p class="muted small">
            Signed in{me.identityProvider ? ` with ${me.identityProvider}` : ''} · {me.likes.length} liked songs
          </p>
        </div>
        <a class="button" href={session.signOutUrl}>
          Sign out
        </a>
      </header>
      <div class="columns">
        <Section title="My likes">
          <Likes />
        </Section>
        <Section title="Recommended for me">
          <Recommendations />
        </Section>
      </div>
      <Section title="Import likes">
        <ImportLikes />
      </Section>
      <Section title="My saved tracklists">
        <SavedList />
      </Section>
      <Section title="Delete my account">
        <DeleteAccount />
      </Section>
    </div>
  );
}

function Likes() {
  const session = useSession();
  const [error, setError] = useState<string | null>(null);
  const likes = session.me?.likes ?? [];
  if (likes.length === 0)
    return (
      <p class="muted">
        No liked songs yet. Press ♡ on any song, or import a playlist below. You can like up to {LIMITS.likes} songs.
      </p>
    );
  const run = (f: () => Promise<void>) => f().then(() => setError(null), (e: unknown) => setError(errorText(e)));
  return (
    <>
      {error && <ErrorNote message={error} />}
      <ul class="rows likes">
        {likes.map((l) => (
          <li key={l.song} class="row">
            {l.name ? (
              <Link href={songPath(l.song)} class="title">
                {l.name}
              </Link>
            ) : (
              <span class="muted" title="The current model does not know this song">
                {l.song} (not in this model)
              </span>
            )}
            <span class="row-end">
              <label class="visually-hidden" for={`score-${l.song}`}>
                How much you like {l.name ?? l.song}
              </label>
              <input
                id={`score-${l.song}`}
                type="range"
                min={0}
                max={1}
                step={0.1}
                value={l.score}
                onChange={(e) => run(() => session.like([{ song: l.song, score: Number((e.target as HTMLInputElement).value) }]))}
              />
              <span class="num">{l.score.toFixed(1)}</span>
              <button type="button" class="icon" aria-label={`Remove ${l.name ?? l.song}`} onClick={() => run(() => session.unlike([l.song]))}>
                ✕
              </button>
            </span>
          </li>
        ))}
      </ul>
    </>
  );
}

function Recommendations() {
  const session = useSession();
  const { api } = session;
  const recs = useAsync(() => api.call(() => api.client.GET('/me/recommendations', { params: { query: { k: 15 } } })), [session.likesVersion]);
  return (
    <Loaded state={recs} what="recommendations">
      {(d) => <SongList items={d.items} empty="Like a few songs to get recommendations." />}
    </Loaded>
  );
}

function SavedList() {
  const { api } = useSession();
  const [version, setVersion] = useState(0);
  const list = useAsync(() => api.call(() => api.client.GET('/me/tracklists')), [version]);
  return (
    <Loaded state={list} what="saved tracklists">
      {(d) =>
        d.items.length === 0 ? (
          <p class="muted">Nothing saved yet: generate a tracklist and press Save.</p>
        ) : (
          <ul class="rows saved">
            {d.items.map((t) => (
              <SavedRow key={t.id} item={t} changed={() => setVersion((v) => v + 1)} />
            ))}
          </ul>
        )
      }
    </Loaded>
  );
}

function SavedRow({ item, changed }: { item: SavedTracklistSummary; changed: () => void }) {
  const { api } = useSession();
  const [editing, setEditing] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const rename = async (e: Event) => {
    e.preventDefault();
    try {
      const name = (editing ?? '').trim();
      await api.call(() => api.client.PATCH('/me/tracklists/{id}', { params: { path: { id: item.id } }, body: { name: name === '' ? null : name } }));
      setEditing(null);
      changed();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const remove = async () => {
    try {
      await api.send(() => api.client.DELETE('/me/tracklists/{id}', { params: { path: { id: item.id } } }));
      changed();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const label = item.name ?? 'Unnamed tracklist';
  return (
    <li class="row saved-row">
      {editing !== null ? (
        <form class="inline-form" onSubmit={rename}>
          <label class="visually-hidden" for={`rename-${item.id}`}>
            New name
          </label>
          <input id={`rename-${item.id}`} value={editing} maxLength={LIMITS.tracklistName} onInput={(e) => setEditing((e.target as HTMLInputElement).value)} />
          <button type="submit" class="primary">
            Rename
          </button>
          <button type="button" onClick={() => setEditing(null)}>
            Cancel
          </button>
        </form>
      ) : (
        <span class="song-name">
          <Link href={savedPath(item.id)} class="title">
            {label}
          </Link>
          <span class="artists">
            {item.songs} songs · {new Date(item.createdAt).toLocaleString()}
          </span>
        </span>
      )}
      {editing === null && (
        <span class="row-end">
          <button type="button" onClick={() => setEditing(item.name ?? '')} aria-label={`Rename ${label}`}>
            Rename
          </button>
          {confirming ? (
            <>
              <button type="button" class="danger" onClick={remove}>
                Delete
              </button>
              <button type="button" onClick={() => setConfirming(false)}>
                Keep
              </button>
            </>
          ) : (
            <button type="button" onClick={() => setConfirming(true)} aria-label={`Delete ${label}`}>
              Delete…
            </button>
          )}
        </span>
      )}
      {error && <ErrorNote message={error} />}
    </li>
  );
}

function DeleteAccount() {
  const session = useSession();
  const { api } = session;
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const remove = async () => {
    try {
      await api.send(() => api.client.DELETE('/me'));
      session.signedOut();
      window.location.assign(session.signOutUrl);
    } catch (e) {
      setError(errorText(e));
    }
  };
  return (
    <>
      <p class="muted">Deletes your liked songs and saved tracklists for good, then signs you out.</p>
      {confirming ? (
        <div class="actions">
          <button type="button" class="danger" onClick={remove}>
            Yes, delete everything
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      ) : (
        <button type="button" class="danger" onClick={() => setConfirming(true)}>
          Delete my account…
        </button>
      )}
      {error && <ErrorNote message={error} />}
    </>
  );
}

export function SavedPage({ id }: { id: string }) {
  const session = useSession();
  const { api } = session;
  const doc = useAsync(
    () => (session.me ? api.call(() => api.client.GET('/me/tracklists/{id}', { params: { path: { id } } })) : Promise.resolve(null)),
    [id, session.me?.id],
  );
  if (session.me === null) return <SignIn why="Sign in to see your saved tracklists." />;
  if (doc.error) return <ErrorNote message={doc.error} />;
  if (!doc.data) return <Loading what="the tracklist" />;
  const t = doc.data;
  return (
    <div class="page">
      <p class="kicker">
        <Link href="/account">My saved tracklists</Link>
      </p>
      <h1>{t.name ?? 'Unnamed tracklist'}</h1>
      <p class="muted small">
        Saved {new Date(t.createdAt).toLocaleString()} · model {t.model.version}
      </p>
      <section class="card">
        <TracklistView
          items={t.tracklist}
          name={t.name}
          savedId={t.id}
          toolbar={
            <button type="button" onClick={() => navigate(`/?seed=${encodeURIComponent(t.tracklist[0]?.id ?? '')}`)}>
              Generate from its seed
            </button>
          }
        />
      </section>
    </div>
  );
}
