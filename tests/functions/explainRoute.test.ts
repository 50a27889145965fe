import { beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../shared/limits.ts';
import { InputError } from '../../shared/util/errors.ts';
import type { ServingModel } from '../../shared/model/serving.ts';
import { buildServingFixture } from '../serving/fixtures.ts';
import { call, fakeServices, type FakeModel } from './fakes.ts';

/* POST /tracklists on a real serving model: explanations and the steering knobs. */

type Err = { error: { message: string; field?: string } };
interface Item {
  id: string;
  explanation?: {
    pickedBy: string;
    path: { level: string; cluster: number; name: string; probability: number }[];
    terms: { network: { rank: number; of: number }; transition: unknown; session: unknown } | null;
  };
}

describe('POST /tracklists on a real model', () => {
  let model: ServingModel;
  const services = () => {
    const s = fakeServices();
    s.model.model = model as unknown as FakeModel;
    return s;
  };
  const seedSong = () => model.song(3).id;

  beforeAll(async () => {
    model = (await buildServingFixture()).model;
  }, 120_000);

  it('explains each song when asked: how it was picked, its named clusters, its evidence', async () => {
    const body = { seedSong: seedSong(), dj: model.dj(1).id, length: 6, rngSeed: 5, explain: true };
    const r = await call(services(), 'generateTracklist', { body });
    expect(r.status).toBe(200);
    const items = (r.body as { tracklist: Item[] }).tracklist;
    expect(items).toHaveLength(7);
    expect(items[0].explanation!.pickedBy).toBe('seed');
    expect(items[0].explanation!.terms).toBeNull();
    for (const item of items) {
      const e = item.explanation!;
      expect(e.path.map((p) => p.level)).toEqual(['l3', 'l2', 'l1']);
      for (const p of e.path) {
        expect(p.probability).toBeGreaterThan(0);
        expect(p.probability).toBeLessThanOrEqual(1 + 1e-9);
      }
    }
    // Every cluster with songs has a name; the fixture's songs all have artists.
    expect(items.flatMap((i) => i.explanation!.path.map((p) => p.name)).every((n) => n.length > 0)).toBe(true);
    for (const item of items.slice(1)) {
      expect(['warmStart', 'model']).toContain(item.explanation!.pickedBy);
      const t = item.explanation!.terms!;
      expect(t.network.rank).toBeGreaterThanOrEqual(1);
      expect(t.network.rank).toBeLessThanOrEqual(t.network.of);
      // The fixture's tracklist model has neither direct term.
      expect(t.transition).toBeNull();
      expect(t.session).toBeNull();
    }
    // The same request without explain: the same songs, no explanations.
    const plain = await call(services(), 'generateTracklist', { body: { ...body, explain: false } });
    const plainItems = (plain.body as { tracklist: Item[] }).tracklist;
    expect(plainItems.map((i) => i.id)).toEqual(items.map((i) => i.id));
    expect(plainItems.every((i) => i.explanation === undefined)).toBe(true);
  });

  it('takes steering, adventurousness and the artist-repeat penalty, and names each when out of range', async () => {
    const ok = await call(services(), 'generateTracklist', {
      body: { seedSong: seedSong(), length: 5, steering: 0.5, adventurousness: 0.2, artistRepeatPenalty: 0.9 },
    });
    expect(ok.status).toBe(200);
    for (const [field, value] of [
      ['steering', 1.5],
      ['adventurousness', -0.1],
      ['artistRepeatPenalty', LIMITS.artistRepeatPenalty.max + 0.005],
      ['explain', 'yes'],
    ] as const) {
      const r = await call(services(), 'generateTracklist', { body: { seedSong: seedSong(), [field]: value } });
      expect(r.status, field).toBe(400);
      expect((r.body as Err).error.field, field).toBe(field);
    }
  });

  it('an InputError of the real engine is a 400 with the engine\'s own message and field', async () => {
    // The seed excluded: the engine refuses it (the schema cannot tell).
    let engine: InputError | undefined;
    try {
      model.generate({ seedSong: 3, exclude: [5, 3] });
    } catch (e) {
      if (e instanceof InputError) engine = e;
    }
    expect(engine?.field).toBe('exclude');
    const r = await call(services(), 'generateTracklist', {
      body: { seedSong: seedSong(), exclude: [model.song(5).id, seedSong()] },
    });
    expect(r.status).toBe(400);
    expect((r.body as Err).error).toEqual({ message: engine!.message, field: 'exclude' });
  });
});
