import { classifyWay, CLASS_SPEED_KMH, MAX_SPEED_KMH, MIN_SPEED_KMH } from './road-rules.ts';

function kept(tags: Record<string, string>) {
  const rule = classifyWay(tags);
  if (!rule.kept) throw new Error(`expected ${JSON.stringify(tags)} kept, dropped: ${rule.reason}`);
  return rule;
}

describe('classifyWay', () => {
  it.each(Object.keys(CLASS_SPEED_KMH))('keeps highway=%s at its class speed', (highway) => {
    const rule = kept({ highway, oneway: 'no' });
    expect(rule.speedKmh).toBe(CLASS_SPEED_KMH[highway]);
    expect(rule.maxspeedTagged).toBe(false);
  });

  it.each(['footway', 'path', 'cycleway', 'track', 'steps', 'pedestrian', 'bridleway', 'proposed'])(
    'drops highway=%s as not for cars',
    (highway) => {
      expect(classifyWay({ highway })).toEqual({ kept: false, reason: 'not-for-cars' });
    },
  );

  it('drops ways that are no road at all', () => {
    expect(classifyWay(undefined)).toEqual({ kept: false, reason: 'not-a-road' });
    expect(classifyWay({ building: 'yes' })).toEqual({ kept: false, reason: 'not-a-road' });
  });

  it('drops roads closed for construction, not open roads with a construction sub-tag', () => {
    expect(classifyWay({ highway: 'construction' })).toMatchObject({ reason: 'construction' });
    // Andorra's CG-2 (way 124674258) is tagged so and open.
    expect(kept({ highway: 'primary', construction: 'primary' }).highway).toBe('primary');
    expect(kept({ highway: 'primary', construction: 'minor' }).highway).toBe('primary');
  });

  it('drops areas', () => {
    expect(classifyWay({ highway: 'service', area: 'yes' })).toMatchObject({ reason: 'area' });
  });

  it.each(['no', 'private', 'agricultural', 'forestry', 'emergency', 'psv'])(
    'drops access=%s',
    (access) => {
      expect(classifyWay({ highway: 'residential', access })).toMatchObject({
        reason: 'no-access',
      });
    },
  );

  it('lets the most specific access key decide', () => {
    expect(kept({ highway: 'residential', access: 'no', motor_vehicle: 'yes' }).highway).toBe(
      'residential',
    );
    expect(
      classifyWay({ highway: 'residential', motor_vehicle: 'yes', motorcar: 'no' }),
    ).toMatchObject({ reason: 'no-access' });
    expect(kept({ highway: 'service', access: 'destination' }).highway).toBe('service');
  });

  it('drops emergency access service roads', () => {
    expect(classifyWay({ highway: 'service', service: 'emergency_access' })).toMatchObject({
      reason: 'closed-service',
    });
  });

  it.each([
    [{ oneway: 'yes' }, 'forward'],
    [{ oneway: '1' }, 'forward'],
    [{ oneway: 'true' }, 'forward'],
    [{ oneway: '-1' }, 'backward'],
    [{ oneway: 'no' }, 'both'],
    [{}, 'both'],
    [{ junction: 'roundabout' }, 'forward'],
    [{ junction: 'circular' }, 'forward'],
    [{ junction: 'roundabout', oneway: 'no' }, 'both'],
  ])('reads %j on a residential road as %s', (tags, direction) => {
    expect(kept({ highway: 'residential', ...tags }).direction).toBe(direction);
  });

  it('implies one-way on motorways and their links unless tagged otherwise', () => {
    expect(kept({ highway: 'motorway' }).direction).toBe('forward');
    expect(kept({ highway: 'motorway_link' }).direction).toBe('forward');
    expect(kept({ highway: 'motorway', oneway: 'no' }).direction).toBe('both');
    expect(kept({ highway: 'trunk' }).direction).toBe('both');
  });

  it('drops reversible roads, whose direction changes with time', () => {
    expect(classifyWay({ highway: 'primary', oneway: 'reversible' })).toMatchObject({
      reason: 'reversible',
    });
  });

  it('takes the speed from maxspeed, clamped, else from the class', () => {
    expect(kept({ highway: 'primary', maxspeed: '50' })).toMatchObject({
      speedKmh: 50,
      maxspeedTagged: true,
    });
    expect(kept({ highway: 'primary', maxspeed: '30 mph' }).speedKmh).toBeCloseTo(48.28, 2);
    expect(kept({ highway: 'motorway', maxspeed: 'none' }).speedKmh).toBe(CLASS_SPEED_KMH.motorway);
    expect(kept({ highway: 'motorway', maxspeed: '250' }).speedKmh).toBe(MAX_SPEED_KMH);
    expect(kept({ highway: 'living_street', maxspeed: '1' }).speedKmh).toBe(MIN_SPEED_KMH);
    expect(kept({ highway: 'tertiary', maxspeed: 'rubbish' }).speedKmh).toBe(
      CLASS_SPEED_KMH.tertiary,
    );
  });
});
