import type { Tf } from '../tf.ts';

/**
 * A short memory note for progress lines: live tfjs tensors and their bytes, the WASM heap (it
 * grows to its high-water mark and never shrinks) and the process RSS, e.g.
 * "mem 412 tensors 38 MB, heap 301 MB, rss 0.61 GB". A count or size that climbs from line to
 * line is a leak.
 */
export function memoryNote(tf: Tf): string {
  const m = tf.memory();
  const heap = wasmHeapBytes(tf);
  const parts = [`mem ${m.numTensors} tensors ${mb(m.numBytes)}`];
  if (heap !== null) parts.push(`heap ${mb(heap)}`);
  parts.push(`rss ${(process.memoryUsage.rss() / 2 ** 30).toFixed(2)} GB`);
  return parts.join(', ');
}

/** Bytes of the WASM backend's linear memory, or null on another backend. */
export function wasmHeapBytes(tf: Tf): number | null {
  if (tf.getBackend() !== 'wasm') return null;
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return backend.wasm?.HEAPU8?.length ?? null;
}

function mb(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MB`;
}
