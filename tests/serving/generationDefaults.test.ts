import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArtifactError } from '../../shared/model/artifact.ts';
import { exportModelVersion } from '../../shared/model/modelVersion.ts';
import { ServingModel } from '../../shared/model/serving.ts';
import { call, fakeServices, type FakeModel } from '../functions/fakes.ts';
import { tempDir } from '../tempDirs.ts';
import { buildServingFixture, type ServingFixture, SMALL_TRACKLIST, writeRandomTracklist } from './fixtures.ts';

const TUNED = { temperature: [2, 2, 2], adventurousness: 0.2, clusterFlow: 1, artistRepeatPenalty: 0.5 };

describe("a model's own generation defaults (issue 20)", () => {
  let plain: ServingFixture;
  let tuned: ServingModel;
  const songs = () => plain.tiny.prepared.vocab.songs.length;

  /** The plain fixture's folder with a tracklist artifact whose meta holds `defaults`. */
  const withDefaults = (defaults: Record<string, unknown>): string => {
    const dir = tempDir('gen-defaults-');
    for (const part of ['prepared', 'embeddings']) cpSync(join(plain.modelDir, part), join(dir, part), { recursive: true });
    writeRandomTracklist(join(dir, 'tracklist'), {
      ...SMALL_TRACKLIST,
      songs: songs(),
      djWidth: plain.tiny.config.dim,
      tasteWidth: 2 * plain.tiny.config.dim,
      generationDefaults: defaults,
    });
    exportModelVersion(dir, join(dir, 'version'));
    return join(dir, 'version');
  };

  beforeAll(async () => {
    plain = await buildServingFixture();
    tuned = ServingModel.load(withDefaults(TUNED));
  });

  const request = { seedSong: 3, dj: 0, length: 15, rngSeed: 7 };

  it('fill every knob a request leaves out, exactly as if the request had given them', () => {
    expect(tuned.generationDefaults).toEqual(TUNED);
    const byDefault = tuned.generate(request).map((g) => g.song);
    expect(byDefault).toEqual(plain.model.generate({ ...request, ...TUNED }).map((g) => g.song));
    expect(byDefault).not.toEqual(plain.model.generate(request).map((g) => g.song));
    expect(plain.model.generationDefaults).toEqual({});
  });

  it("never override a knob the request gives", () => {
    const own = { adventurousness: 0.9, temperature: [0.5, 0.5, 0.5] };
    expect(tuned.generate({ ...request, ...own }).map((g) => g.song)).toEqual(
      plain.model.generate({ ...request, ...TUNED, ...own }).map((g) => g.song),
    );
  });

  it('refuse to load a model whose stored defaults are out of range or unknown, naming the knob', () => {
    expect(() => ServingModel.load(withDefaults({ adventurousness: 5 }))).toThrow(ArtifactError);
    expect(() => ServingModel.load(withDefaults({ adventurousness: 5 }))).toThrow(/adventurousness/);
    expect(() => ServingModel.load(withDefaults({ clusterFlow: -1 }))).toThrow(/clusterFlow/);
    expect(() => ServingModel.load(withDefaults({ userWeighting: 3 }))).toThrow(/unknown knob userWeighting/);
  });

  it('are what GET /tracklists/defaults reports and what POST /tracklists applies', async () => {
    const services = fakeServices();
    services.model.model = tuned as unknown as FakeModel;
    const r = await call(services, 'generationDefaults', {});
    expect(r.status).toBe(200);
    const body = r.body as { defaults: Record<string, unknown>; tuned: string[] };
    expect(body.defaults).toMatchObject({ temperature: [2, 2, 2], adventurousness: 0.2, artistRepeatPenalty: 0.5, steering: 0.1 });
    // clusterFlow is internal: tuned, applied, but not a public knob.
    expect(body.tuned.sort()).toEqual(['adventurousness', 'artistRepeatPenalty', 'temperature']);
    // A tuned value equal to the limits' default is not reported as tuned.
    services.model.model = ServingModel.load(withDefaults({ temperature: [2, 2, 2], adventurousness: 0.6 })) as unknown as FakeModel;
    expect(((await call(services, 'generationDefaults', {})).body as { tuned: string[] }).tuned).toEqual(['temperature']);
    services.model.model = tuned as unknown as FakeModel;
    const g = await call(services, 'generateTracklist', { body: { seedSong: tuned.song(3).id, dj: tuned.dj(0).id, length: 15, rngSeed: 7 } });
    expect(g.status).toBe(200);
    expect((g.body as { tracklist: { id: string }[] }).tracklist.map((s) => s.id)).toEqual(
      plain.model.generate({ ...request, ...TUNED }).map((s) => tuned.song(s.song).id),
    );
  });
});
