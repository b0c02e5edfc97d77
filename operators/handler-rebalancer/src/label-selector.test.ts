import { matchesSelector } from './label-selector.ts';

describe('matchesSelector', () => {
  const labels = { app: 'chat', component: 'handler', tier: 'edge' };

  it('matches on every matchLabels entry', () => {
    expect(matchesSelector(labels, { matchLabels: { app: 'chat', component: 'handler' } })).toBe(
      true,
    );
    expect(matchesSelector(labels, { matchLabels: { app: 'chat', component: 'fanout' } })).toBe(
      false,
    );
    expect(matchesSelector(undefined, { matchLabels: { app: 'chat' } })).toBe(false);
  });

  it('applies each expression operator', () => {
    const expr = (operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist', values?: string[]) => ({
      matchExpressions: [{ key: 'tier', operator, ...(values ? { values } : {}) }],
    });
    expect(matchesSelector(labels, expr('In', ['edge', 'core']))).toBe(true);
    expect(matchesSelector(labels, expr('In', ['core']))).toBe(false);
    expect(matchesSelector(labels, expr('NotIn', ['edge']))).toBe(false);
    expect(matchesSelector({}, expr('NotIn', ['edge']))).toBe(true);
    expect(matchesSelector(labels, expr('Exists'))).toBe(true);
    expect(matchesSelector({}, expr('Exists'))).toBe(false);
    expect(matchesSelector(labels, expr('DoesNotExist'))).toBe(false);
  });
});
