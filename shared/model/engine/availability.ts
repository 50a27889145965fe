import type { Level, TracklistModel } from '../tracklistInference.ts';

/** Availability of songs and of clusters (count of available songs below each). */
export class Availability {
  readonly song: Uint8Array;
  readonly count: Record<'l3' | 'l2' | 'l1', Int32Array>;
  total: number;
  private readonly model: TracklistModel;

  /** A copy of the state with only `blocked` unavailable (counted once per model and blocked set). */
  static initial(model: TracklistModel, blocked: Uint8Array): Availability {
    let perModel = initialAvailability.get(model);
    if (!perModel) initialAvailability.set(model, (perModel = new WeakMap()));
    let base = perModel.get(blocked);
    if (!base) perModel.set(blocked, (base = new Availability(model, blocked)));
    return new Availability(model, base);
  }

  private constructor(model: TracklistModel, from: Uint8Array | Availability) {
    this.model = model;
    if (from instanceof Availability) {
      this.song = from.song.slice();
      this.count = { l3: from.count.l3.slice(), l2: from.count.l2.slice(), l1: from.count.l1.slice() };
      this.total = from.total;
      return;
    }
    const blocked = from;
    const { song: l1Of, l1: l2Of, l2: l3Of } = model.parent;
    this.song = new Uint8Array(model.songs);
    this.total = 0;
    const c1 = new Int32Array(model.sizes.l1);
    for (let s = 0; s < model.songs; s++) {
      if (blocked[s]) continue;
      this.song[s] = 1;
      this.total++;
      c1[l1Of[s]]++;
    }
    const c2 = new Int32Array(model.sizes.l2);
    for (let c = 0; c < c1.length; c++) c2[l2Of[c]] += c1[c];
    const c3 = new Int32Array(model.sizes.l3);
    for (let c = 0; c < c2.length; c++) c3[l3Of[c]] += c2[c];
    this.count = { l3: c3, l2: c2, l1: c1 };
  }

  use(s: number): void {
    if (!this.song[s]) return;
    this.song[s] = 0;
    this.total--;
    const { song: l1Of, l1: l2Of, l2: l3Of } = this.model.parent;
    const l1 = l1Of[s];
    this.count.l1[l1]--;
    this.count.l2[l2Of[l1]]--;
    this.count.l3[l3Of[l2Of[l1]]]--;
  }

  has(level: Level, option: number): boolean {
    return level === 'song' ? this.song[option] === 1 : this.count[level][option] > 0;
  }
}

/** Availability before a request, per model and blocked set (the serving model's is fixed). */
const initialAvailability = new WeakMap<TracklistModel, WeakMap<Uint8Array, Availability>>();
