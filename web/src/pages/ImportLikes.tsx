/**
 * Import liked songs from pasted lines or a playlist file (.m3u/.m3u8, .csv/.txt, Rekordbox .xml):
 * parsed here with the shared parser (problems listed with their line numbers, valid lines kept),
 * matched against the catalogue by the API, unmatched lines listed with close names to pick from.
 * Nothing is dropped without being shown.
 */
import { useState } from 'preact/hooks';
import type { Song } from '../api/client.ts';
import { LIMITS } from '../../../shared/limits.ts';
import { parseImport } from '../../../shared/formats/playlistImport.ts';
import type { ImportProblem } from '../../../shared/formats/playlistImport.ts';
import { errorText, ErrorNote } from '../components/bits.tsx';
import { useSession } from '../session.tsx';

interface Line {
  line: number;
  text: string;
  song: Song | null;
  suggestions: Song[];
  /** A suggestion the user picked for an unmatched line. */
  chosen: Song | null;
}

interface Review {
  source: string;
  lines: Line[];
  problems: ImportProblem[];
}

export function ImportLikes() {
  const session = useSession();
  const { api } = session;
  const [pasted, setPasted] = useState('');
  const [review, setReview] = useState<Review | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const read = async (content: string, fileName: string | null) => {
    setError(null);
    setDone(null);
    setBusy(true);
    try {
      const parsed = parseImport(content, { fileName });
      const lines: Line[] = [];
      for (let i = 0; i < parsed.entries.length; i += LIMITS.matchQueries) {
        const chunk = parsed.entries.slice(i, i + LIMITS.matchQueries);
        const r = await api.call(() => api.client.POST('/songs/match', { body: { queries: chunk.map((e) => e.text) } }));
        r.items.forEach((m, j) => lines.push({ line: chunk[j].line, text: m.query, song: m.song, suggestions: m.suggestions, chosen: null }));
      }
      setReview({ source: fileName ?? 'pasted text', lines, problems: parsed.problems });
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const onFile = async (e: Event) => {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    await read(await file.text(), file.name);
    input.value = '';
  };

  const toAdd = (r: Review) => {
    const seen = new Set(session.likes.keys());
    const out: string[] = [];
    for (const l of r.lines) {
      const song = l.song ?? l.chosen;
      if (song && !seen.has(song.id)) {
        seen.add(song.id);
        out.push(song.id);
      }
    }
    return out;
  };

  const add = async () => {
    if (!review) return;
    const songs = toAdd(review);
    if (session.likes.size + songs.length > LIMITS.likes) {
      setError(`That would make ${session.likes.size + songs.length} likes; at most ${LIMITS.likes} are kept.`);
      return;
    }
    setBusy(true);
    try {
      await session.like(songs.map((song) => ({ song, score: 1 })));
      setDone(`Added ${songs.length} songs to your likes.`);
      setReview(null);
      setPasted('');
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const choose = (index: number, song: Song | null) =>
    setReview((r) => (r ? { ...r, lines: r.lines.map((l, i) => (i === index ? { ...l, chosen: song } : l)) } : r));

  const matched = review ? review.lines.filter((l) => l.song) : [];
  const unmatched = review ? review.lines.map((l, i) => ({ l, i })).filter(({ l }) => !l.song) : [];
  const adding = review ? toAdd(review).length : 0;

  return (
    <div class="import">
      <div class="field">
        <label for="import-text">Paste songs, one "Artist - Title" per line</label>
        <textarea id="import-text" rows={4} value={pasted} onInput={(e) => setPasted((e.target as HTMLTextAreaElement).value)} />
      </div>
      <div class="actions">
        <button type="button" disabled={busy || pasted.trim() === ''} onClick={() => read(pasted, null)}>
          Match pasted lines
        </button>
        <label class="button">
          Upload a playlist
          <input
            type="file"
            class="visually-hidden"
            accept=".m3u,.m3u8,.csv,.tsv,.txt,.xml,audio/x-mpegurl,text/csv,text/plain,application/xml,text/xml"
            onChange={onFile}
            aria-label="Upload a playlist file (.m3u, .m3u8, .csv, .txt, Rekordbox .xml)"
          />
        </label>
        <span class="hint">.m3u / .m3u8, .csv, Rekordbox .xml or .txt</span>
      </div>
      {error && <ErrorNote message={error} />}
      {done && (
        <p class="note" role="status">
          {done}
        </p>
      )}
      {review && (
        <div class="review" aria-label="Import review">
          <p>
            From {review.source}: <strong>{matched.length}</strong> matched, <strong>{unmatched.length}</strong> not in the catalogue
            {review.problems.length > 0 && (
              <>
                , <strong>{review.problems.length}</strong> lines not read
              </>
            )}
            .
          </p>
          {review.problems.length > 0 && (
            <details open class="problems">
              <summary>Lines not read</summary>
              <ul>
                {review.problems.map((p) => (
                  <li key={`${p.line}-${p.message}`}>
                    Line {p.line}: {p.message}
                    {p.source && <code> {p.source}</code>}
                  </li>
                ))}
              </ul>
            </details>
          )}
          {unmatched.length > 0 && (
            <details open class="unmatched">
              <summary>Not in the catalogue</summary>
              <ul>
                {unmatched.map(({ l, i }) => (
                  <li key={i}>
                    Line {l.line}: <span class="q">{l.text}</span>
                    {l.suggestions.length > 0 && (
                      <span class="suggest">
                        {' '}
                        — did you mean{' '}
                        {l.suggestions.map((s) => (
                          <button
                            type="button"
                            key={s.id}
                            class={`chip${l.chosen?.id === s.id ? ' on' : ''}`}
                            aria-pressed={l.chosen?.id === s.id}
                            onClick={() => choose(i, l.chosen?.id === s.id ? null : s)}
                          >
                            {s.name}
                          </button>
                        ))}
                      </span>
                    )}
                  </li>
                ))}
              </ul>
            </details>
          )}
          {matched.length > 0 && (
            <details class="matched">
              <summary>Matched songs</summary>
              <ul>
                {matched.map((l) => (
                  <li key={`${l.line}-${l.song!.id}`}>
                    Line {l.line}: {l.song!.name}
                  </li>
                ))}
              </ul>
            </details>
          )}
          <div class="actions">
            <button type="button" class="primary" disabled={busy || adding === 0} onClick={add}>
              Add {adding} songs to my likes
            </button>
            <button type="button" onClick={() => setReview(null)}>
              Discard
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
