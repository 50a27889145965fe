import { readFileSync, writeFileSync, truncateSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArtifactWriter, readArtifact, TENSOR_FILE } from '../../shared/model/artifact.ts';
import { CooBuilder } from '../../shared/graph/csr.ts';
import { tempDir } from '../tempDirs.ts';

function sample(dir: string): void {
  const coo = new CooBuilder(3, 4);
  coo.add(0, 1, 1.5);
  coo.add(2, 3, -2);
  new ArtifactWriter()
    .addTensor('u8', Uint8Array.from([1, 2, 3]))
    .addTensor('w', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3])
    .addTensor('i', Int32Array.from([-1, 7]))
    .addCsr('g', coo.toCsr())
    .addDocument('vocab', { songs: ['A - B', 'Ç - D'] })
    .write(dir, 'test', { note: 'hello' });
}

describe('artifact format', () => {
  it('round-trips tensors, CSR matrices and documents as aligned views', () => {
    const dir = join(tempDir('art-'), 'a');
    sample(dir);
    const a = readArtifact(dir, { kind: 'test' });
    expect(a.meta).toEqual({ note: 'hello' });
    const w = a.tensor('w');
    expect(Array.from(w)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(a.shape('w')).toEqual([2, 3]);
    expect(w.byteOffset % 4).toBe(0);
    expect(Array.from(a.tensor<Int32Array>('i'))).toEqual([-1, 7]);
    const g = a.csr('g');
    expect([g.rows, g.cols, Array.from(g.indices), Array.from(g.values)]).toEqual([3, 4, [1, 3], [1.5, -2]]);
    expect(a.document<{ songs: string[] }>('vocab').songs[1]).toBe('Ç - D');
    // views share one buffer: no copy per tensor
    expect(a.tensor('w').buffer).toBe(a.tensor<Int32Array>('i').buffer);
  });

  it('rejects a corrupted, a truncated and a missing tensor file, and the wrong kind', () => {
    const root = tempDir('art-');
    const dir = join(root, 'a');
    sample(dir);
    expect(() => readArtifact(dir, { kind: 'model' })).toThrow(/expected a model artifact/);
    const file = join(dir, TENSOR_FILE);
    const original = readFileSync(file);
    const bytes = Buffer.from(original);
    bytes[bytes.length - 9] ^= 0xff;
    writeFileSync(file, bytes);
    expect(() => readArtifact(dir)).toThrow(/sha256/);
    writeFileSync(file, original);
    expect(() => readArtifact(dir)).not.toThrow();
    truncateSync(file, statSync(file).size - 4);
    expect(() => readArtifact(dir)).toThrow(/truncated/);
    writeFileSync(file, '');
    expect(() => readArtifact(dir)).toThrow(/beyond the end/);
    expect(() => readArtifact(join(root, 'nothing'))).toThrow(/no manifest\.json/);
  });

  it('replaces an existing artifact folder whole', () => {
    const dir = join(tempDir('art-'), 'a');
    sample(dir);
    new ArtifactWriter().addTensor('only', Float64Array.from([42])).write(dir, 'test', {});
    const a = readArtifact(dir);
    expect(a.has('w')).toBe(false);
    expect(Array.from(a.tensor<Float64Array>('only'))).toEqual([42]);
  });
});
