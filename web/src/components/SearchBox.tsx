/**
 * Search-as-you-type for songs, artists or DJs: an ARIA combobox (arrow keys move, Enter picks,
 * Escape closes), debounced, stale answers ignored.
 */
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { useSession } from '../session.tsx';

export interface Option {
  id: string;
  name: string;
  detail?: string;
}

export type SearchKind = 'songs' | 'djs' | 'artists';

interface Props {
  kind: SearchKind;
  label: string;
  value: Option | null;
  onChange: (value: Option | null) => void;
  placeholder?: string;
  error?: string | undefined;
  /** id of the input, for labels and tests. */
  inputId?: string;
}

const DEBOUNCE_MS = 150;
const LIMIT = 8;

export function SearchBox({ kind, label, value, onChange, placeholder, error, inputId }: Props) {
  const { api } = useSession();
  const generated = useId();
  const id = inputId ?? `search-${generated}`;
  const listId = `${id}-list`;
  const [text, setText] = useState(value?.name ?? '');
  const [options, setOptions] = useState<Option[]>([]);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const [failed, setFailed] = useState<string | null>(null);
  const latest = useRef(0);

  useEffect(() => setText(value?.name ?? ''), [value?.id]);

  useEffect(() => {
    const q = text.trim();
    if (q === '' || q === value?.name) {
      setOptions([]);
      return;
    }
    const ticket = ++latest.current;
    const timer = setTimeout(async () => {
      try {
        const query = { params: { query: { q, limit: LIMIT } } };
        const items: Option[] =
          kind === 'songs'
            ? (await api.call(() => api.client.GET('/songs', query))).items.map((s) => ({
                id: s.id,
                name: s.name,
              }))
            : kind === 'djs'
              ? (await api.call(() => api.client.GET('/djs', query))).items
              : (await api.call(() => api.client.GET('/artists', query))).items;
        if (ticket !== latest.current) return;
        setFailed(null);
        setOptions(items);
        setActive(items.length > 0 ? 0 : -1);
        setOpen(true);
      } catch (e) {
        if (ticket === latest.current) setFailed(e instanceof Error ? e.message : String(e));
      }
    }, DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text, kind]);

  const pick = (o: Option) => {
    onChange(o);
    setText(o.name);
    setOpen(false);
    setOptions([]);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown' && options.length > 0) {
      e.preventDefault();
      setOpen(true);
      setActive((a) => (a + 1) % options.length);
    } else if (e.key === 'ArrowUp' && options.length > 0) {
      e.preventDefault();
      setActive((a) => (a <= 0 ? options.length - 1 : a - 1));
    } else if (e.key === 'Enter' && open && active >= 0 && options[active]) {
      e.preventDefault();
      pick(options[active]);
    } else if (e.key === 'Escape') {
      setOpen(false);
    }
  };

  const message = error ?? failed ?? undefined;
  return (
    <div class="field combo">
      <label for={id}>{label}</label>
      <input
        id={id}
        type="search"
        role="combobox"
        list={undefined}
        autocomplete="off"
        spellcheck={false}
        aria-autocomplete="list"
        aria-expanded={open && options.length > 0}
        aria-controls={listId}
        aria-activedescendant={open && active >= 0 ? `${listId}-${active}` : undefined}
        aria-invalid={message ? true : undefined}
        aria-describedby={message ? `${id}-error` : undefined}
        placeholder={placeholder}
        value={text}
        onInput={(e) => {
          const t = (e.target as HTMLInputElement).value;
          setText(t);
          if (value && t !== value.name) onChange(null);
        }}
        onKeyDown={onKeyDown}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
        onFocus={() => options.length > 0 && setOpen(true)}
      />
      {open && options.length > 0 && (
        <ul id={listId} role="listbox" class="combo-list" aria-label={label}>
          {options.map((o, i) => (
            <li
              id={`${listId}-${i}`}
              key={o.id}
              role="option"
              aria-selected={i === active}
              class={i === active ? 'active' : ''}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(o);
              }}
            >
              {o.name}
            </li>
          ))}
        </ul>
      )}
      {open && options.length === 0 && text.trim() !== '' && !failed && <p class="hint">No match yet…</p>}
      {message && (
        <p class="error" id={`${id}-error`} role="alert">
          {message}
        </p>
      )}
    </div>
  );
}
