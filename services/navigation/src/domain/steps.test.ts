import { buildSteps, maneuverFor, type RoutePiece } from './steps.ts';

describe('maneuverFor', () => {
  it('names a change of heading, right being clockwise', () => {
    expect(maneuverFor(5)).toBe('straight');
    expect(maneuverFor(-40)).toBe('slight-left');
    expect(maneuverFor(90)).toBe('right');
    expect(maneuverFor(270)).toBe('left');
    expect(maneuverFor(-150)).toBe('sharp-left');
    expect(maneuverFor(179)).toBe('u-turn');
  });
});

describe('buildSteps', () => {
  const piece = (wayId: number, from: [number, number], to: [number, number]): RoutePiece => ({
    wayId,
    from: { lat: from[0], lon: from[1] },
    to: { lat: to[0], lon: to[1] },
    lengthM: 100,
    durationS: 10,
  });

  it('starts a step where the street name changes, with the turn between them', () => {
    const labels = new Map([
      [1, { name: 'Rue A' }],
      [2, { name: 'Rue A' }],
      [3, { ref: 'CG-2' }],
    ]);
    // North twice on Rue A (two ways, one name), then east on CG-2.
    const steps = buildSteps(
      [
        piece(1, [43.7, 7.4], [43.701, 7.4]),
        piece(2, [43.701, 7.4], [43.702, 7.4]),
        piece(3, [43.702, 7.4], [43.702, 7.401]),
      ],
      labels,
    );
    expect(steps.map((s) => [s.maneuver, s.name, s.ref, s.distanceM])).toEqual([
      ['depart', 'Rue A', null, 200],
      ['right', null, 'CG-2', 100],
      ['arrive', null, 'CG-2', 0],
    ]);
    expect(steps[1]!.location).toEqual([7.4, 43.702]);
  });

  it('keeps unnamed ways running straight on in one step, and splits them at a turn', () => {
    const steps = buildSteps(
      [
        piece(1, [43.7, 7.4], [43.701, 7.4]),
        piece(2, [43.701, 7.4], [43.702, 7.4]),
        piece(3, [43.702, 7.4], [43.702, 7.401]),
      ],
      new Map(),
    );
    expect(steps.map((s) => [s.maneuver, s.distanceM])).toEqual([
      ['depart', 200],
      ['right', 100],
      ['arrive', 0],
    ]);
  });
});
