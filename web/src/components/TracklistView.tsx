/**
 * A tracklist as a DJ reads it: numbered songs with their artists, the taste and seed scores as
 * bars, and the model's probability of each choice per level of its song clustering as small
 * badges. Row actions (like, re-roll) and list actions (regenerate, copy, export, save) are given
 * by the page.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { ExportFormat, TracklistItem } from '../api/client.ts';
import { exportTracklist } from '../../../shared/formats/tracklistExport.ts';
import { copyText, filenameOf, saveFile } from '../download.ts';
import { Link, songPath } from '../router.tsx';
import { useSession } from '../session.tsx';
import { errorText, LikeButton, ScoreBar, SongName } from './bits.tsx';

const LEVELS = [
  { key: 'l3', label: 'Broad', help: 'its broad cluster of songs' },
  { key: 'l2', label: 'Mid', help: 'its mid-level cluster' },
  { key: 'l1', label: 'Fine', help: 'its fine cluster' },
  { key: 'song', label: 'Song', help: 'the song within its fine cluster' },
] as const;

export const EXPORT_FORMATS: { format: ExportFormat; label: string }[] = [
  { format: 'm3u8', label: 'M3U8' },
  { format: 'csv', label: 'CSV' },
  { format: 'txt', label: 'Text' },
  { format: 'json', label: 'JSON' },
];

function percent(logProb: number): string {
  const p = Math.exp(logProb) * 100;
  return p >= 99.5 ? '100%' : p >= 10 ? `${Math.round(p)}%` : p >= 1 ? `${p.toFixed(1)}%` : '<1%';
}

export function LevelBadges({ item }: { item: TracklistItem }) {
  return (
    <span class="levels" aria-label="model probability per level">
      {LEVELS.map((l) => {
        const p = Math.exp(item.logProb[l.key]);
        return (
          <span
            key={l.key}
            class="level"
            title={`${l.label}: the model gave ${l.help} ${percent(item.logProb[l.key])}`}
            style={{ '--p': `${Math.round(Math.min(1, p) * 100)}%` }}
          >
            <span class="level-name">{l.label}</span> {percent(item.logProb[l.key])}
          </span>
        );
      })}
    </span>
  );
}

type Explanation = NonNullable<TracklistItem['explanation']>;

const PICKED_BY: Record<Explanation['pickedBy'], string> = {
  seed: 'the seed you chose',
  prefix: 'kept from the list before',
  warmStart: 'one of the best matches for the seed and the taste',
  model: 'the model, down its clusters',
};

function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${suffix}`;
}

/** Why a song is in the list: how it was picked, its clusters, and what the evidence said. */
export function WhyThisSong({ e }: { e: Explanation }) {
  const t = e.terms;
  return (
    <details class="why">
      <summary>Why this song</summary>
      <p>
        Picked by {PICKED_BY[e.pickedBy]}:{' '}
        {e.path.map((p, i) => (
          <span key={p.level}>
            {i > 0 && ' › '}
            <span class="cluster" title={`${LEVELS[i].label} cluster ${p.cluster}: the model gave it ${percent(Math.log(p.probability))}`}>
              {p.name || `cluster ${p.cluster}`}
            </span>
          </span>
        ))}
      </p>
      {t && (
        <ul>
          <li>
            Sequence model: ranked it {ordinal(t.network.rank)} of {t.network.of} in its cluster.
          </li>
          {t.transition && (
            <li>
              After the previous song:{' '}
              {t.transition.seen > 0
                ? `played next ${t.transition.seen} time${t.transition.seen === 1 ? '' : 's'} in training sets`
                : 'never played next in training sets'}{' '}
              (ranked {ordinal(t.transition.rank)}).
            </li>
          )}
          {t.session && (
            <li>
              Similar sets: {Math.round(t.session.voteShare * 1000) / 10}% of their votes (ranked {ordinal(t.session.rank)})
              {t.session.closestSet && (
                <>
                  ; the closest plays it with{' '}
                  {t.session.closestSet.shared.map((s, i) => (
                    <span key={s.id}>
                      {i > 0 && ', '}
                      <Link href={songPath(s.id)}>{s.name}</Link>
                    </span>
                  ))}
                  {t.session.closestSet.sharedCount > t.session.closestSet.shared.length &&
                    ` and ${t.session.closestSet.sharedCount - t.session.closestSet.shared.length} more`}
                </>
              )}
              .
            </li>
          )}
        </ul>
      )}
    </details>
  );
}

interface Props {
  items: TracklistItem[];
  name: string | null;
  /** Row actions after the like button (e.g. re-roll), by position. */
  rowActions?: (index: number) => ComponentChildren;
  toolbar?: ComponentChildren;
  /** Export through the API: POST /tracklists/export (unsaved) or a saved list's export URL. */
  savedId?: string;
}

export function TracklistView({ items, name, rowActions, toolbar, savedId }: Props) {
  const { api } = useSession();
  const [note, setNote] = useState<string | null>(null);
  const text = () => exportTracklist({ name, songs: items }, 'txt').body;

  const download = async (format: ExportFormat) => {
    setNote(null);
    try {
      // A saved list is exported by id (its stored names), an unsaved one is sent back whole.
      const r = savedId
        ? await api.client.GET('/me/tracklists/{id}/export', { params: { path: { id: savedId }, query: { format } }, parseAs: 'text' })
        : await api.client.POST('/tracklists/export', { params: { query: { format } }, body: { name, tracklist: items }, parseAs: 'text' });
      if (!r.response.ok || r.data === undefined) throw new Error(`export failed (${r.response.status})`);
      const headers = r.response.headers;
      saveFile(r.data, filenameOf(headers.get('content-disposition'), `tracklist.${format}`), headers.get('content-type') ?? 'text/plain');
    } catch (e) {
      setNote(errorText(e));
    }
  };

  const copy = async () => {
    try {
      await copyText(text());
      setNote('Copied as text.');
    } catch (e) {
      setNote(`Could not copy: ${errorText(e)}`);
    }
  };

  return (
    <div class="tracklist">
      <div class="toolbar">
        {toolbar}
        <button type="button" onClick={copy}>
          Copy as text
        </button>
        <span class="export" role="group" aria-label="Export">
          <span class="muted">Export</span>
          {EXPORT_FORMATS.map((f) => (
            <button type="button" key={f.format} onClick={() => download(f.format)}>
              {f.label}
            </button>
          ))}
        </span>
      </div>
      {note && (
        <p class="note" role="status">
          {note}
        </p>
      )}
      <ol class="tracks">
        {items.map((item, i) => (
          <li key={`${i}-${item.id}`} class="track" data-song={item.id}>
            <span class="pos" aria-hidden="true">
              {String(i + 1).padStart(2, '0')}
            </span>
            <div class="track-main">
              <SongName song={item} />
              <div class="track-meta">
                {i === 0 ? (
                  <span class="badge seed">Seed</span>
                ) : (
                  <>
                    <ScoreBar label="Taste" value={item.userScore} title="How well the song fits the taste (DJ or likes), 0–1" />
                    <ScoreBar label="Seed" value={item.songScore} title="Similarity to the seed song, 0–1" />
                    <LevelBadges item={item} />
                  </>
                )}
              </div>
              {item.explanation && i > 0 && <WhyThisSong e={item.explanation} />}
            </div>
            <span class="row-end">
              <LikeButton song={item.id} name={item.name} />
              {rowActions?.(i)}
            </span>
          </li>
        ))}
      </ol>
    </div>
  );
}
