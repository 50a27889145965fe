/**
 * The generator: a seed song, a taste (a DJ, my likes, a pasted list of liked songs, or none), a
 * length and, behind "Advanced", the steering knobs with their defaults. Every field is checked
 * here with the API's own limits before the request, and an API 400 is shown beside the field it
 * names. The form and the last result survive navigation, so nothing typed is lost.
 */
import { useEffect, useState } from 'preact/hooks';
import type { LikeInput, TracklistItem, TracklistRequest } from '../api/client.ts';
import { ApiError } from '../api/client.ts';
import { LIMITS } from '../../../shared/limits.ts';
import { SearchBox } from '../components/SearchBox.tsx';
import type { Option } from '../components/SearchBox.tsx';
import { errorText, ErrorNote } from '../components/bits.tsx';
import { TracklistView } from '../components/TracklistView.tsx';
import { Link, navigate, useLocation } from '../router.tsx';
import { useSession } from '../session.tsx';

type Taste = 'none' | 'dj' | 'mine' | 'pasted';
/** The single-number steering knobs, in the order the form shows them. */
const KNOBS = [
  {
    key: 'userWeighting',
    label: 'Taste weight',
    step: '0.1',
    help: 'Taste against similarity to the seed: 1 balances them, 0 ignores the taste.',
  },
  {
    key: 'steering',
    label: 'Steering',
    step: '0.1',
    help: "How strongly taste and seed reshape the model's own choices: 0 is the model alone, 1 the full adjustment.",
  },
  {
    key: 'adventurousness',
    label: 'Adventurousness',
    step: '0.1',
    help: 'How far each song may move from the one before: 0 keeps every step close, 1 lets the model jump anywhere.',
  },
  {
    key: 'artistRepeatPenalty',
    label: 'Artist repeat penalty',
    step: '0.1',
    help: 'How much less likely a song is when its artist already played: 0 allows repeats freely.',
  },
] as const;
type KnobKey = (typeof KNOBS)[number]['key'];

/** The served model's default per knob (GET /tracklists/defaults): training tunes some per model. */
interface Defaults {
  temperature: readonly number[];
  thresholds: readonly number[];
  knobs: Record<KnobKey, number>;
  /** Knobs whose default is the model's own. */
  tuned: readonly string[];
}
const LIMIT_DEFAULTS: Defaults = {
  temperature: LIMITS.temperature.default,
  thresholds: LIMITS.thresholds.default,
  knobs: Object.fromEntries(KNOBS.map((k) => [k.key, LIMITS[k.key].default])) as Record<KnobKey, number>,
  tuned: [],
};
// Module state like the form: fetched once per page load.
let modelDefaults: Defaults = LIMIT_DEFAULTS;
const knobTexts = (d: Defaults): Record<KnobKey, string> =>
  Object.fromEntries(KNOBS.map((k) => [k.key, String(d.knobs[k.key])])) as Record<KnobKey, string>;

type FieldKey = 'seed' | 'dj' | 'likes' | 'length' | 'temperature' | KnobKey | 'thresholds' | 'form';
type Errors = Partial<Record<FieldKey, string>>;

interface Form {
  seed: Option | null;
  taste: Taste;
  dj: Option | null;
  pasted: string;
  length: string;
  temperature: string[];
  knobs: Record<KnobKey, string>;
  thresholds: string[];
  advanced: boolean;
}

interface Result {
  items: TracklistItem[];
  request: TracklistRequest;
  model: string;
  ms: number;
  unmatched: string[];
}

const T = LIMITS.temperature;
const H = LIMITS.thresholds;
const LEVEL_LABELS = ['broad (l3)', 'mid (l2)', 'fine (l1)', 'song'];

const initialForm = (): Form => ({
  seed: null,
  taste: 'none',
  dj: null,
  pasted: '',
  length: String(LIMITS.length.default),
  temperature: modelDefaults.temperature.map(String),
  knobs: knobTexts(modelDefaults),
  thresholds: modelDefaults.thresholds.map(String),
  advanced: false,
});

// Kept across page changes (module state): going to a song's page and back keeps everything.
let keptForm: Form = initialForm();
let keptResult: Result | null = null;

/** Where an API error's field belongs in this form. */
function fieldOf(apiField: string | undefined): FieldKey {
  if (!apiField) return 'form';
  if (apiField === 'seedSong') return 'seed';
  if (apiField === 'dj') return 'dj';
  if (apiField.startsWith('likes')) return 'likes';
  if (apiField === 'length') return 'length';
  if (apiField.startsWith('temperature')) return 'temperature';
  if (apiField.startsWith('thresholds')) return 'thresholds';
  const knob = KNOBS.find((k) => k.key === apiField);
  if (knob) return knob.key;
  return 'form';
}

function numberIn(text: string, lo: number, hi: number, hiOpen = false): number | null {
  if (text.trim() === '') return null;
  const x = Number(text);
  if (!Number.isFinite(x) || x < lo || (hiOpen ? x >= hi : x > hi)) return null;
  return x;
}

const tunedNote = (d: Defaults, key: string) => (d.tuned.includes(key) ? ' (tuned for this model)' : '');

const randomSeed = () => Math.floor(Math.random() * 2 ** 32);

export function Generate() {
  const session = useSession();
  const { api } = session;
  const location = useLocation();
  const [form, setFormState] = useState<Form>(keptForm);
  const [result, setResultState] = useState<Result | null>(keptResult);
  const [errors, setErrors] = useState<Errors>({});
  const [defaults, setDefaults] = useState<Defaults>(modelDefaults);
  const [busy, setBusy] = useState(false);
  const [rerolling, setRerolling] = useState<number | null>(null);
  const [saveName, setSaveName] = useState<string | null>(null);
  const [saved, setSaved] = useState<{ id: string; name: string | null } | null>(null);

  const setForm = (f: Partial<Form>) =>
    setFormState((old) => {
      keptForm = { ...old, ...f };
      return keptForm;
    });
  const setResult = (r: Result | null) => {
    keptResult = r;
    setResultState(r);
    setSaved(null);
  };

  // The model's own defaults replace the limits' in every field the user has not changed.
  useEffect(() => {
    if (modelDefaults !== LIMIT_DEFAULTS) return;
    void (async () => {
      const r = await api.client.GET('/tracklists/defaults').catch(() => null);
      if (!r?.data) return; // no model yet: the limits' defaults stand, and the API applies the model's
      const d = r.data.defaults;
      const next: Defaults = {
        temperature: d.temperature,
        thresholds: d.thresholds,
        knobs: Object.fromEntries(KNOBS.map((k) => [k.key, d[k.key]])) as Record<KnobKey, number>,
        tuned: r.data.tuned,
      };
      const old = modelDefaults;
      modelDefaults = next;
      setDefaults(next);
      setFormState((f) => {
        const same = (a: string[], b: readonly number[]) => a.length === b.length && a.every((x, i) => Number(x) === b[i]);
        const knobs = { ...f.knobs };
        for (const { key } of KNOBS) if (Number(knobs[key]) === old.knobs[key]) knobs[key] = String(next.knobs[key]);
        keptForm = {
          ...f,
          knobs,
          temperature: same(f.temperature, old.temperature) ? next.temperature.map(String) : f.temperature,
          thresholds: same(f.thresholds, old.thresholds) ? next.thresholds.map(String) : f.thresholds,
        };
        return keptForm;
      });
    })();
  }, []);

  // ?seed=…&dj=… from "Generate from this song" / "Generate as this DJ".
  useEffect(() => {
    const seed = location.query.get('seed');
    const dj = location.query.get('dj');
    if (!seed && !dj) return;
    void (async () => {
      try {
        if (seed) {
          const s = await api.call(() => api.client.GET('/songs/{id}', { params: { path: { id: seed } } }));
          setForm({ seed: { id: s.id, name: s.name } });
        }
        if (dj) {
          const d = await api.call(() => api.client.GET('/djs/{id}', { params: { path: { id: dj } } }));
          setForm({ taste: 'dj', dj: { id: d.id, name: d.name } });
        }
      } catch (e) {
        setErrors({ form: errorText(e) });
      }
      navigate('/', { replace: true });
    })();
  }, [location.query.toString()]);

  /** Checks the form with the API's limits; the request body, or the errors. */
  const check = (): { body: Omit<TracklistRequest, 'likes'>; pastedLines: string[] } | Errors => {
    const e: Errors = {};
    if (!form.seed) e.seed = 'Choose a seed song from the list.';
    const length = Number(form.length);
    if (!Number.isInteger(length) || length < LIMITS.length.min || length > LIMITS.length.max)
      e.length = `A whole number from ${LIMITS.length.min} to ${LIMITS.length.max}.`;
    const temperature = form.temperature.map((t) => numberIn(t, T.min, T.max));
    if (temperature.some((t) => t === null)) e.temperature = `Each from ${T.min} to ${T.max}.`;
    const thresholds = form.thresholds.map((t) => numberIn(t, H.min, H.below, true));
    if (thresholds.some((t) => t === null)) e.thresholds = `Each from ${H.min} up to (not including) ${H.below}.`;
    const knobs: Partial<Record<KnobKey, number>> = {};
    for (const { key } of KNOBS) {
      const { min, max } = LIMITS[key];
      const x = numberIn(form.knobs[key], min, max);
      if (x === null) e[key] = `A number from ${min} to ${max}.`;
      else if (x !== defaults.knobs[key]) knobs[key] = x;
    }
    if (form.taste === 'dj' && !form.dj) e.dj = 'Choose a DJ from the list, or another taste.';
    if (form.taste === 'mine' && !session.me) e.likes = 'Sign in to use your likes.';
    if (form.taste === 'mine' && session.me && session.me.likes.length === 0)
      e.likes = 'You have no liked songs yet: like some songs, or choose another taste.';
    const pastedLines = form.pasted
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '');
    if (form.taste === 'pasted' && pastedLines.length === 0) e.likes = 'Paste one "Artist - Title" per line.';
    if (form.taste === 'pasted' && pastedLines.length > LIMITS.matchQueries)
      e.likes = `At most ${LIMITS.matchQueries} lines.`;
    if (Object.keys(e).length > 0) return e;
    const differs = (xs: (number | null)[], d: readonly number[]) => xs.some((x, i) => x !== d[i]);
    return {
      pastedLines,
      body: {
        seedSong: form.seed!.id,
        length,
        explain: true,
        ...(differs(temperature, defaults.temperature) ? { temperature: temperature as number[] } : {}),
        ...(differs(thresholds, defaults.thresholds) ? { thresholds: thresholds as number[] } : {}),
        ...knobs,
        ...(form.taste === 'dj' && form.dj ? { dj: form.dj.id } : {}),
      },
    };
  };

  /** The taste as likes: mine, or the pasted lines matched against the catalogue. */
  const likesFor = async (pastedLines: string[]): Promise<{ likes?: LikeInput[]; unmatched: string[] }> => {
    if (form.taste === 'mine') return { likes: (session.me?.likes ?? []).map((l) => ({ song: l.song, score: l.score })), unmatched: [] };
    if (form.taste !== 'pasted') return { unmatched: [] };
    const r = await api.call(() => api.client.POST('/songs/match', { body: { queries: pastedLines } }));
    const seen = new Set<string>();
    const likes: LikeInput[] = [];
    const unmatched: string[] = [];
    for (const m of r.items) {
      if (!m.song) unmatched.push(m.query);
      else if (!seen.has(m.song.id)) {
        seen.add(m.song.id);
        likes.push({ song: m.song.id, score: 1 });
      }
    }
    if (likes.length === 0) throw new ApiError(400, `None of the ${pastedLines.length} lines is a song the model knows.`, 'likes');
    return { likes, unmatched };
  };

  const generate = async (event?: Event) => {
    event?.preventDefault();
    const checked = check();
    if (!('body' in checked)) {
      setErrors(checked as Errors);
      return;
    }
    setErrors({});
    setBusy(true);
    const started = performance.now();
    try {
      const { likes, unmatched } = await likesFor(checked.pastedLines);
      const request: TracklistRequest = { ...checked.body, ...(likes ? { likes } : {}), rngSeed: randomSeed() };
      const r = await api.call(() => api.client.POST('/tracklists', { body: request }));
      setResult({ items: r.tracklist, request, model: r.model.version, ms: performance.now() - started, unmatched });
    } catch (e) {
      const key = e instanceof ApiError ? fieldOf(e.field) : 'form';
      setErrors({ [key]: errorText(e) });
    } finally {
      setBusy(false);
    }
  };

  const regenerate = async () => {
    if (!result) return;
    setBusy(true);
    try {
      const request = { ...result.request, rngSeed: randomSeed() };
      const started = performance.now();
      const r = await api.call(() => api.client.POST('/tracklists', { body: request }));
      setResult({ ...result, items: r.tracklist, request, model: r.model.version, ms: performance.now() - started });
    } catch (e) {
      setErrors({ form: errorText(e) });
    } finally {
      setBusy(false);
    }
  };

  /** A new song at position i: the songs before it stay, it and the ones after it are excluded. */
  const reroll = async (i: number) => {
    if (!result || i === 0) return;
    setRerolling(i);
    try {
      const ids = result.items.map((t) => t.id);
      const request: TracklistRequest = {
        ...result.request,
        length: i,
        prefix: ids.slice(1, i),
        exclude: ids.slice(i),
        rngSeed: randomSeed(),
      };
      const r = await api.call(() => api.client.POST('/tracklists', { body: request }));
      const items = result.items.slice();
      items[i] = r.tracklist[i];
      setResult({ ...result, items });
    } catch (e) {
      setErrors({ form: errorText(e) });
    } finally {
      setRerolling(null);
    }
  };

  const save = async (event: Event) => {
    event.preventDefault();
    if (!result) return;
    try {
      const { dj: _dj, likes: _likes, prefix: _p, exclude: _e, explain: _x, ...knobs } = result.request;
      const name = (saveName ?? '').trim();
      const doc = await api.call(() =>
        api.client.POST('/me/tracklists', {
          body: { ...knobs, ...(name ? { name } : {}), tracklist: result.items },
        }),
      );
      setSaved({ id: doc.id, name: doc.name });
      setSaveName(null);
    } catch (e) {
      setErrors({ form: errorText(e) });
    }
  };

  const tasteName =
    form.taste === 'dj' && form.dj ? `as ${form.dj.name}` : form.taste === 'mine' ? 'my taste' : form.taste === 'pasted' ? 'pasted likes' : null;
  const defaultName = result ? `${result.items[0]?.name ?? 'Tracklist'}${tasteName ? ` (${tasteName})` : ''}` : '';

  return (
    <div class="page generate">
      <h1>Generate a tracklist</h1>
      <p class="lead">Pick a seed song and whose taste to follow; the model plays on from there.</p>
      <form class="card form" onSubmit={generate} noValidate>
        <SearchBox
          kind="songs"
          label="Seed song"
          inputId="seed"
          placeholder="Search songs, e.g. an artist or a title"
          value={form.seed}
          onChange={(seed) => setForm({ seed })}
          error={errors.seed}
        />
        <fieldset class="field taste">
          <legend>Taste</legend>
          <div class="choices">
            {(
              [
                ['none', 'None'],
                ['dj', 'A DJ'],
                ['mine', 'My likes'],
                ['pasted', 'Pasted list'],
              ] as const
            ).map(([value, label]) => (
              <label key={value} class="choice">
                <input type="radio" name="taste" value={value} checked={form.taste === value} onChange={() => setForm({ taste: value })} />
                {label}
              </label>
            ))}
          </div>
          {form.taste === 'dj' && (
            <SearchBox kind="djs" label="DJ" inputId="dj" placeholder="Search DJs" value={form.dj} onChange={(dj) => setForm({ dj })} error={errors.dj} />
          )}
          {form.taste === 'mine' &&
            (session.me ? (
              <p class="hint">{session.me.likes.length} liked songs.</p>
            ) : (
              <p class="hint">
                <a href={session.signInUrl()}>Sign in</a> to generate with your likes.
              </p>
            ))}
          {form.taste === 'pasted' && (
            <div class="field">
              <label for="pasted">Liked songs, one "Artist - Title" per line</label>
              <textarea
                id="pasted"
                rows={5}
                value={form.pasted}
                aria-invalid={errors.likes ? true : undefined}
                aria-describedby={errors.likes ? 'likes-error' : undefined}
                onInput={(e) => setForm({ pasted: (e.target as HTMLTextAreaElement).value })}
              />
            </div>
          )}
          {errors.likes && (
            <p class="error" id="likes-error" role="alert">
              {errors.likes}
            </p>
          )}
        </fieldset>
        <div class="field narrow">
          <label for="length">Songs after the seed</label>
          <input
            id="length"
            type="number"
            inputMode="numeric"
            min={LIMITS.length.min}
            max={LIMITS.length.max}
            value={form.length}
            aria-invalid={errors.length ? true : undefined}
            aria-describedby={errors.length ? 'length-error' : undefined}
            onInput={(e) => setForm({ length: (e.target as HTMLInputElement).value })}
          />
          {errors.length && (
            <p class="error" id="length-error" role="alert">
              {errors.length}
            </p>
          )}
        </div>
        <details class="advanced" open={form.advanced} onToggle={(e) => setForm({ advanced: (e.target as HTMLDetailsElement).open })}>
          <summary>Advanced steering</summary>
          <NumberRow
            id="temperature"
            label="Temperature per level"
            help={`Multiplies the model's scores at each cluster level; higher is more predictable. Default ${defaults.temperature.join(', ')}${tunedNote(defaults, 'temperature')}.`}
            labels={LEVEL_LABELS.slice(0, 3)}
            values={form.temperature}
            step="0.1"
            onChange={(temperature) => setForm({ temperature })}
            error={errors.temperature}
          />
          {KNOBS.map(({ key, label, step, help }) => (
            <div class="field narrow" key={key}>
              <label for={key}>{label}</label>
              <input
                id={key}
                type="number"
                step={step}
                min={LIMITS[key].min}
                max={LIMITS[key].max}
                value={form.knobs[key]}
                aria-invalid={errors[key] ? true : undefined}
                aria-describedby={`${key}-help`}
                onInput={(e) => setForm({ knobs: { ...form.knobs, [key]: (e.target as HTMLInputElement).value } })}
              />
              <p class="hint" id={`${key}-help`}>
                {help} Default {defaults.knobs[key]}
                {tunedNote(defaults, key)}.
              </p>
              {errors[key] && (
                <p class="error" role="alert">
                  {errors[key]}
                </p>
              )}
            </div>
          ))}
          <NumberRow
            id="thresholds"
            label="Probability thresholds"
            help={`Options less likely than this are never drawn, per level. Default ${defaults.thresholds.join(', ')}.`}
            labels={LEVEL_LABELS}
            values={form.thresholds}
            step="0.005"
            onChange={(thresholds) => setForm({ thresholds })}
            error={errors.thresholds}
          />
          <button
            type="button"
            class="link"
            onClick={() =>
              setForm({ temperature: defaults.temperature.map(String), thresholds: defaults.thresholds.map(String), knobs: knobTexts(defaults) })
            }
          >
            Reset to defaults
          </button>
        </details>
        <div class="actions">
          <button type="submit" class="primary" disabled={busy} id="generate">
            {busy ? 'Generating…' : 'Generate'}
          </button>
        </div>
        {errors.form && <ErrorNote message={errors.form} />}
      </form>

      {result && (
        <section class="card result" aria-label="Generated tracklist" aria-busy={busy}>
          <header class="card-head">
            <h2>{defaultName}</h2>
            <span class="muted small">
              {result.items.length} songs · model {result.model} · {Math.round(result.ms)} ms
            </span>
          </header>
          {result.unmatched.length > 0 && (
            <p class="note" role="status">
              Not in the catalogue, so not used as taste: {result.unmatched.join('; ')}
            </p>
          )}
          <TracklistView
            items={result.items}
            name={defaultName}
            toolbar={
              <>
                <button type="button" onClick={regenerate} disabled={busy}>
                  Regenerate
                </button>
                {session.me && saveName === null && !saved && (
                  <button type="button" onClick={() => setSaveName(defaultName)}>
                    Save
                  </button>
                )}
              </>
            }
            rowActions={(i) =>
              i > 0 && (
                <button
                  type="button"
                  class="icon"
                  aria-label={`Re-roll song ${i + 1}`}
                  title="Another song for this position"
                  disabled={rerolling !== null}
                  onClick={() => reroll(i)}
                >
                  {rerolling === i ? '…' : '↻'}
                </button>
              )
            }
          />
          {saveName !== null && (
            <form class="inline-form" onSubmit={save}>
              <label for="save-name">Name</label>
              <input id="save-name" value={saveName} maxLength={LIMITS.tracklistName} onInput={(e) => setSaveName((e.target as HTMLInputElement).value)} />
              <button type="submit" class="primary">
                Save tracklist
              </button>
              <button type="button" onClick={() => setSaveName(null)}>
                Cancel
              </button>
            </form>
          )}
          {saved && (
            <p class="note" role="status">
              Saved as <Link href={`/saved/${encodeURIComponent(saved.id)}`}>{saved.name ?? 'an unnamed tracklist'}</Link>.
            </p>
          )}
        </section>
      )}
    </div>
  );
}

function NumberRow(props: {
  id: string;
  label: string;
  help: string;
  labels: string[];
  values: string[];
  step: string;
  onChange: (values: string[]) => void;
  error: string | undefined;
}) {
  return (
    <fieldset class="field numbers" aria-describedby={`${props.id}-help`}>
      <legend>{props.label}</legend>
      <div class="number-row">
        {props.values.map((v, i) => (
          <label key={i} class="mini">
            <span>{props.labels[i]}</span>
            <input
              id={`${props.id}-${i}`}
              type="number"
              step={props.step}
              value={v}
              aria-invalid={props.error ? true : undefined}
              onInput={(e) => {
                const next = props.values.slice();
                next[i] = (e.target as HTMLInputElement).value;
                props.onChange(next);
              }}
            />
          </label>
        ))}
      </div>
      <p class="hint" id={`${props.id}-help`}>
        {props.help}
      </p>
      {props.error && (
        <p class="error" id={`${props.id}-error`} role="alert">
          {props.error}
        </p>
      )}
    </fieldset>
  );
}
