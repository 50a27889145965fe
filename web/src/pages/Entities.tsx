/**
 * What the API knows about one song, artist or DJ: details, their songs, similar items with
 * scores, a DJ's recommendations; every name links to its page, and each page can start a
 * tracklist from here.
 */
import type { ScoredArtist, ScoredDj } from '../api/client.ts';
import { ErrorNote, LikeButton, Loaded, Loading, Section, SongList, useAsync } from '../components/bits.tsx';
import { artistPath, djPath, Link, navigate } from '../router.tsx';
import { useSession } from '../session.tsx';

const K = 12;

function RefList({ items, path, empty }: { items: (ScoredArtist | ScoredDj)[]; path: (id: string) => string; empty: string }) {
  if (items.length === 0) return <p class="muted">{empty}</p>;
  return (
    <ol class="rows">
      {items.map((x) => (
        <li key={x.id} class="row">
          <Link href={path(x.id)} class="title">
            {x.name}
          </Link>
          <span class="num" title="similarity (1 + cos)">
            {x.score.toFixed(2)}
          </span>
        </li>
      ))}
    </ol>
  );
}

function NotFoundOr({ error, what }: { error: string; what: string }) {
  return (
    <div class="page">
      <h1>{what}</h1>
      <ErrorNote message={error} />
      <p>
        <Link href="/">Back to the generator</Link>
      </p>
    </div>
  );
}

export function SongPage({ id }: { id: string }) {
  const { api } = useSession();
  const song = useAsync(() => api.call(() => api.client.GET('/songs/{id}', { params: { path: { id } } })), [id]);
  const similar = useAsync(
    () => api.call(() => api.client.GET('/songs/{id}/similar', { params: { path: { id }, query: { k: K } } })),
    [id],
  );
  if (song.error) return <NotFoundOr error={song.error} what="Song" />;
  if (!song.data) return <Loading what="the song" />;
  const s = song.data;
  return (
    <div class="page entity">
      <p class="kicker">Song</p>
      <h1>
        {s.name} <LikeButton song={s.id} name={s.name} />
      </h1>
      <p class="facts">
        {s.artists.map((a, i) => (
          <span key={a.id}>
            {i > 0 && ' · '}
            <Link href={artistPath(a.id)}>{a.name}</Link>
          </span>
        ))}
        <span class="muted"> — played {s.plays} times in the training sets{s.acappella ? ' · acappella (never generated)' : ''}</span>
      </p>
      <div class="actions">
        <button type="button" class="primary" onClick={() => navigate(`/?seed=${encodeURIComponent(s.id)}`)}>
          Generate from this song
        </button>
      </div>
      <Section title="Similar songs">
        <Loaded state={similar} what="similar songs">{(d) => <SongList items={d.items} empty="No similar songs." />}</Loaded>
      </Section>
    </div>
  );
}

export function ArtistPage({ id }: { id: string }) {
  const { api } = useSession();
  const artist = useAsync(() => api.call(() => api.client.GET('/artists/{id}', { params: { path: { id } } })), [id]);
  const songs = useAsync(
    () => api.call(() => api.client.GET('/artists/{id}/songs', { params: { path: { id }, query: { k: 20 } } })),
    [id],
  );
  const similar = useAsync(
    () => api.call(() => api.client.GET('/artists/{id}/similar', { params: { path: { id }, query: { k: K } } })),
    [id],
  );
  if (artist.error) return <NotFoundOr error={artist.error} what="Artist" />;
  if (!artist.data) return <Loading what="the artist" />;
  return (
    <div class="page entity">
      <p class="kicker">Artist</p>
      <h1>{artist.data.name}</h1>
      <p class="facts muted">Credited on {artist.data.songs} songs the model knows.</p>
      <div class="columns">
        <Section title="Songs (most played first)">
          <Loaded state={songs} what="songs">{(d) => <SongList items={d.items} empty="No songs." />}</Loaded>
        </Section>
        <Section title="Similar artists">
          <Loaded state={similar} what="similar artists">{(d) => <RefList items={d.items} path={artistPath} empty="No similar artists." />}</Loaded>
        </Section>
      </div>
    </div>
  );
}

export function DjPage({ id }: { id: string }) {
  const { api } = useSession();
  const dj = useAsync(() => api.call(() => api.client.GET('/djs/{id}', { params: { path: { id } } })), [id]);
  const played = useAsync(
    () => api.call(() => api.client.GET('/djs/{id}/songs', { params: { path: { id }, query: { k: K } } })),
    [id],
  );
  const recs = useAsync(
    () => api.call(() => api.client.GET('/djs/{id}/recommendations', { params: { path: { id }, query: { k: K } } })),
    [id],
  );
  const similar = useAsync(
    () => api.call(() => api.client.GET('/djs/{id}/similar', { params: { path: { id }, query: { k: K } } })),
    [id],
  );
  if (dj.error) return <NotFoundOr error={dj.error} what="DJ" />;
  if (!dj.data) return <Loading what="the DJ" />;
  return (
    <div class="page entity">
      <p class="kicker">DJ</p>
      <h1>{dj.data.name}</h1>
      <p class="facts muted">Played {dj.data.songs} different songs in the sets the model learned from.</p>
      <div class="actions">
        <button type="button" class="primary" onClick={() => navigate(`/?dj=${encodeURIComponent(id)}`)}>
          Generate as this DJ
        </button>
      </div>
      <div class="columns">
        <Section title="Recommended for this DJ">
          <Loaded state={recs} what="recommendations">{(d) => <SongList items={d.items} empty="No recommendations." />}</Loaded>
        </Section>
        <Section title="Most played">
          <Loaded state={played} what="songs">{(d) => <SongList items={d.items} empty="No songs." />}</Loaded>
        </Section>
      </div>
      <Section title="Similar DJs">
        <Loaded state={similar} what="similar DJs">{(d) => <RefList items={d.items} path={djPath} empty="No similar DJs." />}</Loaded>
      </Section>
    </div>
  );
}
