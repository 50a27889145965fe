import type { GradSaveFunc, Scalar, Tensor, Tensor2D } from '@tensorflow/tfjs';
import type { Tf } from './tf.ts';

/**
 * a · b whose gradients use explicit transposes: the WASM backend multiplies transposed
 * operands on a slow reference path (~3 GFLOP/s) but plain ones through XNNPACK (~20–30),
 * and tfjs's own matMul gradient asks for transposed products.
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
