import type { GradSaveFunc, Scalar, Tensor, Tensor2D } from '@tensorflow/tfjs';
import type { Tf } from './tf.ts';

/**
 * a · b whose gradients use explicit transposes: the WASM backend multiplies transposed
 * operands on a slow reference path but plain ones through XNNPACK, and tfjs's own matMul
 * gradient asks for transposed products.
 */
export function matMul(tf: Tf, a: Tensor2D, b: Tensor2D): Tensor2D {
  const f = tf.customGrad((...args: (Tensor | GradSaveFunc)[]) => {
    const [x, y, save] = args as [Tensor2D, Tensor2D, GradSaveFunc];
    save([x, y]);
    return {
      value: tf.matMul(x, y),
      gradFunc: (dy, saved) => {
        const [sx, sy] = saved as Tensor2D[];
        return [tf.matMul(dy as Tensor2D, tf.transpose(sy)), tf.matMul(tf.transpose(sx), dy as Tensor2D)];
      },
    };
  });
  return f(a, b) as Tensor2D;
}

/** a · bᵀ through matMul above (the transpose is explicit, so every product stays fast). */
export function matMulT(tf: Tf, a: Tensor2D, b: Tensor2D): Tensor2D {
  return matMul(tf, a, tf.transpose(b));
}

/**
 * Σ ReLU(x)² as one op with a direct gradient 2·ReLU(x): tfjs's generic sum gradient builds a
 * JS array of ones the size of x, which dominated the factorisation loss on large matrices.
 */
export function sumSquaredRelu(tf: Tf, x: Tensor2D): Scalar {
  const f = tf.customGrad((...args: (Tensor | GradSaveFunc)[]) => {
    const [input, save] = args as [Tensor2D, GradSaveFunc];
    const r = tf.relu(input);
    save([r]);
    return {
      value: tf.sum(tf.square(r)),
      gradFunc: (dy, saved) => tf.mul(tf.mul(saved[0], 2), dy),
    };
  });
  return f(x) as Scalar;
}

/**
 * Concatenation whose gradient is cut apart in TypeScript: tfjs differentiates concat through
 * slice, which tfjs-wasm runs on a slow path.
 */
export function concatRows(tf: Tf, parts: Tensor2D[]): Tensor2D {
  const f = tf.customGrad((...args: (Tensor | GradSaveFunc)[]) => {
    const inputs = args.slice(0, parts.length) as Tensor2D[];
    return {
      value: tf.concat(inputs, 0) as Tensor2D,
      gradFunc: (dy) => {
        const g = (dy as Tensor2D).dataSync() as Float32Array;
        const width = inputs[0].shape[1];
        let offset = 0;
        return inputs.map((t) => {
          const size = t.shape[0] * width;
          const out = tf.tensor2d(g.slice(offset, offset + size), t.shape);
          offset += size;
          return out;
        });
      },
    };
  });
  return f(...parts) as Tensor2D;
}

/** Column-wise [a, b] with the same TypeScript-side gradient split as concatRows. */
export function concatColumns(tf: Tf, a: Tensor2D, b: Tensor2D): Tensor2D {
  const f = tf.customGrad((...args: (Tensor | GradSaveFunc)[]) => {
    const [x, y] = args as [Tensor2D, Tensor2D];
    return {
      value: tf.concat([x, y], 1) as Tensor2D,
      gradFunc: (dy) => {
        const g = (dy as Tensor2D).dataSync() as Float32Array;
        const rows = x.shape[0];
        const wa = x.shape[1];
        const wb = y.shape[1];
        const ga = new Float32Array(rows * wa);
        const gb = new Float32Array(rows * wb);
        for (let r = 0; r < rows; r++) {
          ga.set(g.subarray(r * (wa + wb), r * (wa + wb) + wa), r * wa);
          gb.set(g.subarray(r * (wa + wb) + wa, (r + 1) * (wa + wb)), r * wb);
        }
        return [tf.tensor2d(ga, x.shape), tf.tensor2d(gb, y.shape)];
      },
    };
  });
  return f(a, b) as Tensor2D;
}
