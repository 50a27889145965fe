import { describe, expect, it } from 'vitest';
import { allowanceCap } from '../../training/tracklist/train.ts';

describe('the tracklist allowance (a decision, not a mutation)', () => {
  it('caps the steps to what fits in the allowance, never below the timed ones, and only when asked', () => {
    expect(allowanceCap(360, 1500, 720)).toBe(500);
    expect(allowanceCap(360, 400, 720)).toBe(400);
    expect(allowanceCap(10, 1500, 5000)).toBe(20);
    expect(allowanceCap(0, 1500, 5000)).toBe(1500);
  });
});
