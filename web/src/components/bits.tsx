/** Small shared pieces: score bars, like buttons, song lines, async loading. */
import { Fragment } from 'preact';
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Song } from '../api/client.ts';
import { artistPath, Link, songPath } from '../router.tsx';
import { useSession } from '../session.tsx';

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export interface AsyncState<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
}

/** Runs `load` when its dependencies change; stale answers are dropped. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): AsyncState<T> {
  const [state, setState] = useState<AsyncState<T>>({
    data: undefined,
    error: null,
    loading: true,
  });
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (e: unknown) => live && setState({ data: undefined, error: errorText(e), loading: false }),
    );
    return () => {
      live = false;
    };
  }, deps);
  return state;
}

/** A 0..1 score as a labelled bar. */
export function ScoreBar({ label, value, title }: { label: string; value: number; title?: string }) {
  const pct = Math.round(Math.max(0, Math.min(1, value)) * 100);
  return (
    <span class="score" title={title ?? `${label} ${value.toFixed(2)}`}>
      <span class="score-label">{label}</span>
      <span class="bar" role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
        <span style={{ width: `${pct}%` }} />
      </span>
      <span class="score-value">{value.toFixed(2)}</span>
    </span>
  );
}

export function LikeButton({ song, name }: { song: string; name: string }) {
  const session = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!session.me) return null;
  const liked = session.likes.has(song);
  const toggle = async () => {
    setBusy(true);
    setError(null);
    try {
      if (liked) await session.unlike([song]);
      else await session.like([{ song, score: 1 }]);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <button
      type="button"
      class={`icon like${liked ? ' on' : ''}`}
      aria-pressed={liked}
      aria-label={liked ? `Unlike ${name}` : `Like ${name}`}
      title={error ?? (liked ? 'Liked — click to remove' : 'Like')}
      disabled={busy}
      onClick={toggle}
    >
      {liked ? '♥' : '♡'}
    </button>
  );
}

/** A song's name linking to its page, and its artists linking to theirs. */
export function SongName({ song }: { song: Song }) {
  return (
    <span class="song-name">
      <Link href={songPath(song.id)} class="title">
        {song.name}
      </Link>
      {song.artists.length > 0 && (
        <span class="artists">
          {song.artists.map((a, i) => (
            <Fragment key={a.id}>
              {i > 0 && ', '}
              <Link href={artistPath(a.id)}>{a.name}</Link>
            </Fragment>
          ))}
        </span>
      )}
    </span>
  );
}

export function Section({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="card">
      <header class="card-head">
        <h2>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {what}…
    </p>
  );
}

/** The error, a loading line, or what `children` makes of the data. */
export function Loaded<T>({ state, what, children }: { state: AsyncState<T>; what: string; children: (data: T) => ComponentChildren }) {
  if (state.error) return <ErrorNote message={state.error} />;
  if (state.data === undefined) return <Loading what={what} />;
  return <>{children(state.data)}</>;
}

export function ErrorNote({ message }: { message: string }) {
  return (
    <p class="error" role="alert">
      {message}
    </p>
  );
}

/** A ranked list of songs with like buttons. */
export function SongList({ items, empty }: { items: (Song & { score: number })[]; empty: string }) {
  if (items.length === 0) return <p class="muted">{empty}</p>;
  return (
    <ol class="rows">
      {items.map((s) => (
        <li key={s.id} class="row">
          <SongName song={s} />
          <span class="row-end">
            <span class="num" title="score">
              {s.score.toFixed(2)}
            </span>
            <LikeButton song={s.id} name={s.name} />
          </span>
        </li>
      ))}
    </ol>
  );
}
