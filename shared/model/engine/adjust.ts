/** The sampling distribution at one level (SPEC §5.2 step 4). */

const MAX_LOGIT = Math.log(1000);

/** exp(logit − shift) for each option, as the caller's softmax normaliser already computed them. */
export interface ExpLogits {
  values: ArrayLike<number>;
  shift: number;
}

/**
 * The sampling distribution at one level (SPEC §5.2 step 4) over the candidate options, from the
 * model's logits and the options' weighted scores (w·user³ + song³)/(1 + w): logits × temperature,
 * shifted so the largest is ln 1000, each multiplied by its min-max-scaled score f (or by
 * 1 − steering + steering·f) but never increased (min(x, x·f)), softmax, options at or below the
 * threshold zeroed (the most likely always stays), renormalised.
 */
export function adjustedProbabilities(
  logits: ArrayLike<number>,
  weighted: ArrayLike<number>,
  temperature: number,
  threshold: number,
  out?: Float64Array,
  expLogits?: ExpLogits,
  steering = 1,
  bias?: ArrayLike<number> | null,
): Float64Array {
  const n = logits.length;
  let xMax = -Infinity;
  let fLo = Infinity;
  let fHi = -Infinity;
  for (let j = 0; j < n; j++) {
    xMax = Math.max(xMax, logits[j] * temperature);
    fLo = Math.min(fLo, weighted[j]);
    fHi = Math.max(fHi, weighted[j]);
  }
  const p = out ? out.subarray(0, n) : new Float64Array(n);
  let aMax = -Infinity;
  for (let j = 0; j < n; j++) {
    const x = logits[j] * temperature - (xMax - MAX_LOGIT);
    // steering < 1 moves the factor towards 1: the model's own preference counts more.
    const f = 1 - steering + steering * (fHi > fLo ? (weighted[j] - fLo) / (fHi - fLo) : 1);
    // A bias (the artist-repeat penalty) multiplies the option's final odds, whatever f is.
    p[j] = Math.min(x, x * f) + (bias ? bias[j] : 0);
    aMax = Math.max(aMax, p[j]);
  }
  // An option whose adjusted value is its shifted logit (x ≤ 0 or f = 1: most of a large set)
  // reuses exp(logit − shift) from the caller's normaliser, times one common factor.
  const shift = xMax - MAX_LOGIT;
  const factor = expLogits && temperature === 1 ? Math.exp(expLogits.shift - shift - aMax) : NaN;
  // Outside this range the reused values could have under- or overflowed where a direct exp does not.
  const reuse = factor > 1e-100 && factor < 1e100;
  let sum = 0;
  let best = 0;
  for (let j = 0; j < n; j++) {
    sum += p[j] = reuse && p[j] === logits[j] - shift ? expLogits!.values[j] * factor : Math.exp(p[j] - aMax);
    if (p[j] > p[best]) best = j;
  }
  let kept = 0;
  for (let j = 0; j < n; j++) {
    if (j !== best && p[j] / sum <= threshold) p[j] = 0;
    kept += p[j];
  }
  for (let j = 0; j < n; j++) p[j] /= kept;
  return p;
}
