import { ArtifactWriter, readArtifact } from '../../shared/model/artifact.ts';
import { Random } from '../../shared/util/random.ts';

/** Kind of a published model version (contract C). */
export const MODEL_KIND = 'tracklist-ai/model';

/**
 * Writes a small stand-in model version (the real format: manifest + tensors.bin + a document;
 * random contents, so two versions differ) into `dir`.
 */
export function writeVersion(dir: string, versionId: string, seed = 1, metrics: unknown = null): void {
  const rng = new Random(seed);
  const emb = new Float32Array(64 * 1024);
  for (let i = 0; i < emb.length; i++) emb[i] = rng.next();
  const idx = new Int32Array(1000);
  for (let i = 0; i < idx.length; i++) idx[i] = Math.floor(rng.next() * 1e6);
  new ArtifactWriter()
    .addTensor('emb.rec.song', emb, [1024, 64])
    .addTensor('cat.click.indices', idx)
    .addDocument('vocab', { songs: ['a', 'b'], seed })
    .write(dir, MODEL_KIND, {
      versionId,
      corpusDigest: 'ab'.repeat(32),
      metrics,
      counts: { songs: 1024, artists: 0, djs: 0 },
    });
}

/** Stand-in for ServingModel.load in these tests: verifies every checksum, returns the version. */
export interface FakeModel {
  versionId: string;
  dir: string;
}

export function fakeLoad(dir: string): FakeModel {
  const artifact = readArtifact<{ versionId: string }>(dir, { verify: true, kind: MODEL_KIND });
  return { versionId: artifact.meta.versionId, dir };
}
