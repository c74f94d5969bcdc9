/**
 * How the benchmark judges a target: plain comparisons, and the one rule where the raw floor
 * relaxes the target (issue 10: "≤ 4, or ≤ the raw floor's own ratio when that is higher").
 */
import { describe, expect, it } from 'vitest';
import { met, type Target } from '../../bench/lib/report';

const target = (t: Partial<Target>): Target => ({ key: 'k', value: 1, op: '<=', target: 4, meaning: '', ...t });

describe('bench target judgement', () => {
  it('compares plainly when no floor relaxes the target', () => {
    expect(met(target({ value: 4 }))).toBe(true);
    expect(met(target({ value: 4.1 }))).toBe(false);
    // A floor shown for information does not move the target.
    expect(met(target({ value: 4.5, floor: 5 }))).toBe(false);
    expect(met(target({ op: '>=', value: 3.9, floor: 3 }))).toBe(false);
    expect(met(target({ value: null }))).toBeNull();
  });

  it('accepts up to the raw floor when the rule says so and the floor is higher', () => {
    expect(met(target({ value: 4.65, floor: 4.91, floorRelaxes: true }))).toBe(true);
    expect(met(target({ value: 5, floor: 4.91, floorRelaxes: true }))).toBe(false);
    // A floor below the target does not tighten it.
    expect(met(target({ value: 3.9, floor: 3.5, floorRelaxes: true }))).toBe(true);
    expect(met(target({ value: 4.2, floor: null, floorRelaxes: true }))).toBe(false);
  });
});
