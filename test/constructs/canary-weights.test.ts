import fc from 'fast-check';
import { canaryWeights, isCanaryWeight } from '../../model/canary';

describe('canaryWeights', () => {
  it('gives stable the rest of the traffic', () => {
    expect(canaryWeights(10)).toEqual({ stable: 90, canary: 10 });
    expect(canaryWeights(0)).toEqual({ stable: 100, canary: 0 });
    expect(canaryWeights(100)).toEqual({ stable: 0, canary: 100 });
  });

  it('always splits exactly 100 for every valid weight', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), (w) => {
        const weights = canaryWeights(w);
        return weights.stable + weights.canary === 100 && weights.stable >= 0 && weights.canary === w;
      }),
    );
  });

  it('rejects every weight outside 0..100 or not an integer', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ max: -1 }), fc.integer({ min: 101 }), fc.double({ noInteger: true })),
        (w) => isCanaryWeight(w) !== undefined,
      ),
    );
  });

  it('fails when the weight is 150', () => {
    expect(() => canaryWeights(150)).toThrow(
      "'canary.weight' is 150; it must be an integer between 0 and 100 (stable gets 100 - weight)",
    );
  });

  it('fails when the weight is fractional', () => {
    expect(() => canaryWeights(12.5, 'weight')).toThrow(
      "'weight' is 12.5; it must be an integer between 0 and 100",
    );
  });
});
