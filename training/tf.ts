import type * as tfTypes from '@tensorflow/tfjs';

/**
 * The one place training code gets TensorFlow.js from: tfjs-node when its native library
 * loaded at install time, else pure tfjs on the WASM backend (SIMD kernels shipped in the
 * package), else the JS CPU backend. The choice is logged because it changes the speed of training.
 */
export type Tf = typeof tfTypes;

let loaded: Promise<{ tf: Tf; backend: string }> | null = null;

export function loadTf(log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<{
  tf: Tf;
  backend: string;
}> {
  loaded ??= (async () => {
    const forced = process.env.TLGEN_TF_BACKEND; // 'node' | 'wasm' | 'cpu', for benchmarks
    if (!forced || forced === 'node') {
      try {
        const name = '@tensorflow/tfjs-node';
        const tf = (await import(name)) as Tf;
        await tf.ready();
        log(`tfjs backend: ${tf.getBackend()} (@tensorflow/tfjs-node)`);
        return { tf, backend: tf.getBackend() };
      } catch (e) {
        if (forced) throw e;
      }
    }
    const tf = (await import('@tensorflow/tfjs')) as Tf;
    if (!forced || forced === 'wasm') {
      try {
        await import('@tensorflow/tfjs-backend-wasm');
        if (await tf.setBackend('wasm')) {
          await tf.ready();
          shareIdentityOnWasm(tf);
          log(`tfjs backend: wasm (@tensorflow/tfjs-backend-wasm; tfjs-node unavailable)`);
          return { tf, backend: 'wasm' };
        }
      } catch (e) {
        if (forced) throw e;
      }
    }
    await tf.setBackend('cpu');
    await tf.ready();
    log('tfjs backend: cpu (pure JavaScript; slow)');
    return { tf, backend: 'cpu' };
  })();
  return loaded;
}

/**
 * tfjs clones every tensor it saves for the backward pass through the Identity kernel, which
 * on WASM copies the data (a third of a TL-MGCCF step at seed scale). Tensors are immutable, so
 * the clone can share the buffer through the backend's reference count, as Reshape already does.
 */
function shareIdentityOnWasm(tf: Tf): void {
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs.x as tfTypes.Tensor;
      (backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
}
