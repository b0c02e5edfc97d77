import { analyze, editDistanceFor, foldTerm, MAX_TERM_LENGTH } from './analysis.ts';

describe('search text analysis', () => {
  it('splits on anything but letters, marks and digits', () => {
    expect(analyze("Hôtel du Lac, Genève! l'été 3.5 — A&B")).toEqual([
      'hotel',
      'du',
      'lac',
      'geneve',
      'l',
      'ete',
      '3',
      '5',
      'a',
      'b',
    ]);
    expect(analyze('  !?…  ')).toEqual([]);
  });

  it('folds Latin letters to ASCII as Lucene asciifolding does, and leaves other scripts', () => {
    expect(['Straße', 'Ørestad', 'Łódź', 'ﬁne', 'Æsir', 'Þór'].map(foldTerm)).toEqual([
      'strasse',
      'orestad',
      'lodz',
      'fine',
      'aesir',
      'thor',
    ]);
    expect(foldTerm('Ἀθῆναι')).toBe('ἀθῆναι');
    expect(foldTerm('Москва')).toBe('москва');
  });

  it('reads decomposed and composed accents alike', () => {
    expect(analyze('Gene\u0300ve')).toEqual(analyze('Genève'));
  });

  it('cuts terms at the maximum length', () => {
    expect(analyze('x'.repeat(1000))[0]).toHaveLength(MAX_TERM_LENGTH);
  });

  it.each([
    ['', 0],
    ['ab', 0],
    ['abc', 1],
    ['abcde', 1],
    ['abcdef', 2],
    ['abcdefghijklmnop', 2],
    ['été', 1],
  ])('allows %p %i edits (fuzziness AUTO)', (term, edits) => {
    expect(editDistanceFor(term)).toBe(edits);
  });
});
