import { MAX_CODE_LENGTH, planCodeLength } from './code-length.ts';

describe('planCodeLength', () => {
  it('picks the shortest length whose space exceeds writes × retention', () => {
    // The design notes' figure: 100 million URLs a day for ten years.
    const tenYears = 10 * 365 * 24 * 3600;
    const plan = planCodeLength(1160, tenYears);
    expect(plan.needed).toBe(1160 * tenYears);
    expect(plan.length).toBe(7);
    expect(62 ** 6).toBeLessThanOrEqual(plan.needed);
    expect(plan.needed).toBeLessThan(62 ** 7);
    expect(plan.explanation).toContain('code length 7');
    expect(plan.explanation).toContain('62^7');
  });

  it('moves to the next length exactly at the boundary', () => {
    expect(planCodeLength(62 ** 3 - 1, 1).length).toBe(3);
    expect(planCodeLength(62 ** 3, 1).length).toBe(4);
    expect(planCodeLength(1, 61).length).toBe(1);
    expect(planCodeLength(1, 62).length).toBe(2);
  });

  it('refuses rates it cannot encode and nonsense input', () => {
    expect(() => planCodeLength(1e6, 1e10)).toThrow(`at most ${MAX_CODE_LENGTH}`);
    expect(() => planCodeLength(0, 10)).toThrow(RangeError);
    expect(() => planCodeLength(10, -1)).toThrow(RangeError);
  });
});
