import { aliasProblem } from './alias.ts';

describe('aliasProblem', () => {
  it.each(['my-promo', 'Launch_2026', 'abc', 'a'.repeat(64), 'abcdefgh', 'abcdef', 'abc-def'])(
    'accepts %s',
    (alias) => {
      expect(aliasProblem(alias, 7)).toBeUndefined();
    },
  );

  it.each([
    ['ab', /3-64/],
    ['a'.repeat(65), /3-64/],
    ['with space', /3-64/],
    ['slash/y', /3-64/],
    ['dot.ted', /3-64/],
    ['urls', /reserved/],
    ['HEALTHZ', /reserved/],
    ['metrics', /reserved/],
    ['abcdefg', /generated code space/],
    ['Ab3dE9z', /generated code space/],
  ])('refuses %s', (alias, reason) => {
    expect(aliasProblem(alias, 7)).toMatch(reason);
  });
});
