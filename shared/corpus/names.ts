/**
 * Name and title generation for the synthetic corpus: syllable-built artist names (some with
 * diacritics), word-list titles, and taxonomy names. Uniqueness is checked on an aggressive fold
 * (case, diacritics, punctuation, leading "the"/"dj") so no two generated names can collapse to
 * one key under any reasonable normaliser.
 */
import type { Random } from '../util/random.ts';

const ONSETS = split('b|br|c|ch|d|dr|f|fl|g|gr|h|j|k|kr|l|m|n|p|pl|r|s|sh|sk|st|t|tr|v|w|y|z||');
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'a', 'e', 'o', 'i', 'a', 'ai', 'ei', 'ou', 'io', 'y'];
const MIDDLE_CODAS = ['', '', '', '', 'n', 'r', 'l', 's', 'm'];
const FIRST_NAMES = split(
  'Maya|Leon|Nina|Oscar|Ana|Marco|Lena|Felix|Sara|Hugo|Ivy|Jonas|Mila|Theo|Clara|Luca|Rosa|' +
    'Adam|Elena|Victor|Kai|Nora|Sam|Eva|Max|Lola|Ben|Iris|Tom|Jade|Alex|Vera|Omar|Lucia|Ravi|' +
    'Yuki|Amir|Kenji|Ines|Pablo|José|Zoë|Søren|Björn|Chloé|Léa|Jürgen|Renée|Andrés|Maël|Åsa|' +
    'Noémie|Dónal|Łukasz|Çağan|Ekin|Tariq|Femi|Kofi|Anouk',
);
const CODAS = ['', '', '', 'n', 'r', 'l', 's', 'x', 'm', 'k', 'th', 'nd', 'rt', 'z'];
const ACCENTS: Record<string, string[]> = {
  a: ['á', 'à', 'ä', 'å', 'ã'],
  e: ['é', 'è', 'ë', 'ê'],
  i: ['í', 'ï'],
  o: ['ó', 'ö', 'ø', 'ô'],
  u: ['ú', 'ü'],
  n: ['ñ'],
  c: ['ç'],
  s: ['š'],
  z: ['ž'],
};
const BAND_WORDS = split(
  'Velvet|Neon|Midnight|Crystal|Golden|Silent|Electric|Hidden|Lunar|Solar|Paper|Glass|Iron|' +
    'Analog|Digital|Static|Cosmic|Urban|Northern|Southern|Secret|Broken|Distant|Wild|Second|' +
    'Future|Modern|Vintage|Deep|Blue',
);
const BAND_NOUNS = split(
  'Owls|Machines|Tapes|Rivers|Signals|Lovers|Brothers|Sisters|Ghosts|Wolves|Circuits|Pilots|' +
    'Dreamers|Waves|Shadows|Hearts|Satellites|Gardens|Engines|Rebels|Collective|Society|Project|' +
    'Orchestra|Sound System|Unit|Circle|Theory|Affair|Crew',
);
const ADJECTIVES = split(
  'Endless|Golden|Lost|Broken|Electric|Silent|Neon|Burning|Frozen|Hidden|Wild|Sweet|Dark|' +
    'Bright|Deep|Higher|Distant|Falling|Rising|Secret|Crystal|Velvet|Liquid|Cosmic|Magic|Perfect|' +
    'Strange|Restless|Tender|Savage|Blue|Red|Black|White|Purple|Silver|Heavy|Slow|Fast|Last|' +
    'First|Little|Beautiful|Dangerous|Lonely|Eternal|Sacred|Ultra|Hypnotic|Infinite',
);
const NOUNS = split(
  'Love|Night|Light|Heart|Dream|Fire|Rain|Sky|Sun|Moon|City|Ocean|River|Body|Soul|Mind|Time|' +
    'World|Dance|Rhythm|Feeling|Desire|Motion|Echo|Signal|Paradise|Horizon|Gravity|Machine|Voice|' +
    'Shadow|Mirror|Storm|Thunder|Summer|Winter|Sunrise|Sunset|Skyline|Groove|Energy|Freedom|' +
    'Memory|Promise|Secret|Temple|Jungle|Desert|Island|Galaxy|Pulse|Fever|Spirit|Vision|Tide|' +
    'Orbit|Circle|Crowd|Road|Window',
);
const VERBS = split(
  'Feel|Take|Hold|Move|Show|Want|Need|Give|Let|Bring|Follow|Free|Save|Call|Touch|Lift|Tell|' +
    'Keep|Find|Set',
);
const OBJECTS = ['Me', 'You', 'Us', 'It', 'Me Up', 'Me Down', 'Me Higher', 'You Now', 'Me Home', 'Your Body'];
const PLACES = split(
  'Ibiza|Berlin|London|Detroit|Chicago|Amsterdam|Tokyo|Miami|Paris|Lisbon|Tbilisi|Kyiv|' +
    'São Paulo|Cape Town|Melbourne|Montréal|Bogotá|Malmö|Zürich|Kraków',
);
const VENUES = split(
  'Warehouse|Club|Arena|Festival|Radio Show|Boiler Room|Podcast|Open Air|Terrace|Residency',
);
/** Word lists are '|'-separated so multi-word entries stay whole. */
function split(list: string): string[] {
  return list.split('|');
}

/** Words that a track-string parser treats as syntax; a name containing one as a word is rejected. */
const RESERVED = new Set(
  (
    'id tba tbc tbd unknown ft feat featuring vs versus pres presents and with meets x b2b w the dj mc of ' +
    'remix rmx edit reedit bootleg rework flip mashup refix remake redo blend vip dub mix version edition ' +
    'rerub remode reconstruction interpretation acappella acapella cappella original extended unreleased'
  ).split(' '),
);
/**
 * Words a parser may strip from the end of a remixer credit as version descriptors ("Extended Club
 * Mix"), so "(Kora Deep Remix)" could lose "Deep": a name must not end with one.
 */
const DESCRIPTOR_END = new Set(
  (
    'a an club radio vocal instrumental inst main dance live acoustic album single lp ep short long full alt ' +
    'alternative alternate clean dirty explicit slowed slow screwed chopped sped up remastered remaster rough ' +
    'demo early special uk ukg us usa inch intro outro reprise rare private festival vinyl stereo mono video new ' +
    'classic bonus mixed unmixed official tv deep dark hard soft raw rave ambient tribal soulful percussion drum ' +
    'drums strings piano sax guitar beat beats house techno garage jungle dnb trap reggae dancehall acid electro ' +
    'disco funk jazz soul road cut re part pt final quick quarantine bass sub amapiano gqom afro afrobeat ' +
    'afrobeats baile dembow reggaeton moombahton footwork juke jersey drill grime dubstep breaks breakbeat soca ' +
    'bouyon rnb lofi chill latin tropical samba tomorrowland umf edc creamfields coachella asot ibiza tour set ' +
    'exclusive'
  ).split(' '),
);
const LEADING_DESCRIPTOR = new Set(['original', 'extended', 'official', 'radio', 'special', 'unreleased']);

/** Aggressive fold used only for uniqueness: lower case, no diacritics, alphanumerics only. */
export function foldKey(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ø/gi, 'o')
    .toLowerCase()
    .replace(/^(the|dj)\s+/, '')
    .replace(/[^a-z0-9]/g, '');
}

function cap(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function pick<T>(rng: Random, items: readonly T[]): T {
  return items[rng.int(items.length)];
}

/** Generates unique artist/DJ names and per-artist unique titles. */
export class NameGen {
  private readonly used = new Set<string>();
  private readonly rng: Random;

  constructor(rng: Random) {
    this.rng = rng;
    this.used.add('id');
  }

  private word(minSyllables: number, maxSyllables: number): string {
    const rng = this.rng;
    const n = minSyllables + rng.int(maxSyllables - minSyllables + 1);
    for (;;) {
      let w = '';
      for (let i = 0; i < n; i++)
        w += pick(rng, ONSETS) + pick(rng, VOWELS) + pick(rng, i === n - 1 ? CODAS : MIDDLE_CODAS);
      if (w.length < 3) w += pick(rng, ['n', 'ra', 'lo', 'x']);
      // Vowel pile-ups and doubled y read as noise, not names.
      if (!/[aeiouy]{3}|yy|^y[aeiou]{2}/.test(w) && w.length <= 10) return w;
    }
  }

  private accent(word: string): string {
    const chars = [...word];
    const candidates = chars.map((c, i) => (ACCENTS[c] ? i : -1)).filter((i) => i >= 0);
    if (candidates.length === 0) return word;
    const i = pick(this.rng, candidates);
    chars[i] = pick(this.rng, ACCENTS[chars[i]]);
    return chars.join('');
  }

  private candidate(): string {
    const rng = this.rng;
    const u = rng.next();
    // Diacritics go on syllable-built words only; word-list names stay as written.
    const syl = (min: number, max: number): string => {
      const w = cap(this.word(min, max));
      return rng.next() < 0.06 ? this.accent(w) : w;
    };
    if (u < 0.3) return syl(2, 3);
    if (u < 0.5) return `${syl(1, 2)} ${syl(2, 3)}`;
    if (u < 0.68) return `${pick(rng, FIRST_NAMES)} ${syl(2, 3)}`;
    if (u < 0.76) return `DJ ${syl(1, 3)}`;
    if (u < 0.84) return `The ${pick(rng, BAND_WORDS)} ${pick(rng, BAND_NOUNS)}`;
    if (u < 0.9) return `${syl(1, 2)} ${pick(rng, BAND_NOUNS)}`;
    if (u < 0.95)
      return this.word(1, 2)
        .toUpperCase()
        .slice(0, 2 + rng.int(3));
    return `${syl(2, 2)}${rng.int(10) < 5 ? 'ism' : 'tronic'}`;
  }

  /** A new artist name, unique under foldKey and free of reserved words. */
  artist(): string {
    for (;;) {
      const name = this.candidate();
      const words = name.toLowerCase().split(/\s+/);
      const body = words[0] === 'the' || words[0] === 'dj' ? words.slice(1) : words;
      if (body.length === 0 || body.some((w) => RESERVED.has(w))) continue;
      const last = foldKey(words[words.length - 1]);
      if (
        DESCRIPTOR_END.has(last) ||
        /^(?:\d+|[ivx]+)$/.test(last) ||
        LEADING_DESCRIPTOR.has(foldKey(words[0]))
      )
        continue;
      const key = foldKey(name);
      if (key.length < 2 || this.used.has(key)) continue;
      this.used.add(key);
      return name;
    }
  }

  /** A title not yet used by any of the given per-artist title sets (which it updates). */
  title(taken: Set<string>[]): string {
    const rng = this.rng;
    for (let attempt = 0; ; attempt++) {
      const u = rng.next();
      let t: string;
      if (u < 0.25) t = pick(rng, NOUNS);
      else if (u < 0.5) t = `${pick(rng, ADJECTIVES)} ${pick(rng, NOUNS)}`;
      else if (u < 0.62) t = `${pick(rng, VERBS)} ${pick(rng, OBJECTS)}`;
      else if (u < 0.72) t = `${pick(rng, NOUNS)} Of The ${pick(rng, NOUNS)}`;
      else if (u < 0.8) t = `The ${pick(rng, NOUNS)}`;
      else if (u < 0.88) t = `${pick(rng, NOUNS)} ${pick(rng, NOUNS)}`;
      else if (u < 0.94) t = cap(this.word(2, 3));
      else t = `${pick(rng, ADJECTIVES)} ${pick(rng, NOUNS)} ${pick(rng, NOUNS)}`;
      // Rare fallback keeps prolific artists from looping forever on a small word space.
      if (attempt > 20) t += ` ${rng.int(90) + 10}`;
      const key = foldKey(t);
      if (taken.some((s) => s.has(key))) continue;
      for (const s of taken) s.add(key);
      return t;
    }
  }

  place(): string {
    return pick(this.rng, PLACES);
  }

  venue(): string {
    return pick(this.rng, VENUES);
  }
}

/** Genre → subgenre vocabulary for the planted taxonomy (names are cosmetic). */
export const GENRES: readonly { name: string; subgenres: readonly string[] }[] = [
  {
    name: 'house',
    subgenres: split('deep house|tech house|progressive house|afro house|jackin house|melodic house'),
  },
  {
    name: 'techno',
    subgenres: split('peak time techno|minimal techno|hard techno|melodic techno|dub techno|acid techno'),
  },
  {
    name: 'trance',
    subgenres: split('uplifting trance|psytrance|progressive trance|tech trance|vocal trance|goa trance'),
  },
  { name: 'drum & bass', subgenres: split('liquid|neurofunk|jump up|jungle|minimal dnb|dancefloor dnb') },
  { name: 'bass', subgenres: split('dubstep|uk garage|bassline|future bass|trap|riddim') },
  { name: 'disco', subgenres: split('nu disco|italo disco|disco house|french house|boogie|balearic') },
  { name: 'electro', subgenres: split('electro house|big room|complextro|breaks|fidget|moombahton') },
  { name: 'downtempo', subgenres: split('chillout|organic house|lo-fi|ambient|trip hop|downbeat') },
];
