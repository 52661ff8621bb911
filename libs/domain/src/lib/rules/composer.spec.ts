import { composeValues, normalizeUniqueValue, uniqueCandidates, uniqueValueKey } from './composer';
import type { TakenValues } from './composer';
import { held, HR, mesh, NOW, rule } from './testing/rule-fixtures';

const composer = { connectorId: null };

function taken(values: Record<string, string>, scope = 'accountName'): TakenValues {
  return new Map(Object.entries(values).map(([value, owner]) => [uniqueValueKey(scope, value), owner]));
}

describe('composer rules', () => {
  const accountName = rule(
    'composer',
    {
      target: 'accountName',
      candidates: ['lower(left(normalize(givenName), 1) + alphanumeric(normalize(sn)))', 'lower(alphanumeric(normalize(givenName)) + "." + alphanumeric(normalize(sn)))'],
      unique: { scope: 'accountName' },
    },
    { ...composer, id: 'account', ordinal: 1 },
  );
  const john = mesh({ givenName: held('John', HR), sn: held('Doe', HR) }, { id: 'mesh-john' });

  it('proposes the base candidates, then the first with a counter (jdoe, john.doe, jdoe2, jdoe3 …)', () => {
    expect(uniqueCandidates(john, accountName).slice(0, 5)).toEqual(['jdoe', 'john.doe', 'jdoe2', 'jdoe3', 'jdoe4']);
  });

  it('takes the first candidate when it is free and returns it for reservation', () => {
    const result = composeValues(john, [accountName], taken({}), { now: NOW });
    expect(result.attributes['accountName']).toEqual({ value: 'jdoe', connectorId: null, ruleId: 'account', at: NOW });
    expect(result.reservations).toEqual([{ scope: 'accountName', value: 'jdoe', meshObjectId: 'mesh-john', ruleId: 'account' }]);
  });

  it('skips values other mesh objects hold: jdoe taken → john.doe; both taken → jdoe2', () => {
    expect(composeValues(john, [accountName], taken({ jdoe: 'mesh-jane' }), { now: NOW }).attributes['accountName'].value).toBe('john.doe');
    expect(composeValues(john, [accountName], taken({ jdoe: 'mesh-jane', 'john.doe': 'mesh-jim' }), { now: NOW }).attributes['accountName'].value).toBe('jdoe2');
  });

  it('collides case-insensitively (JDoe is jdoe)', () => {
    expect(normalizeUniqueValue('JDoe')).toBe('jdoe');
    const single = rule('composer', { target: 'accountName', candidates: ['left(givenName, 1) + sn'], unique: { scope: 'accountName' } }, composer);
    expect(composeValues(john, [single], taken({ jdoe: 'mesh-jane' }), { now: NOW }).attributes['accountName'].value).toBe('JDoe2');
  });

  it('spells diacritics in ASCII: José Ñúñez → jnunez, jose.nunez', () => {
    const jose = mesh({ givenName: held('José', HR), sn: held('Ñúñez', HR) }, { id: 'mesh-jose' });
    expect(uniqueCandidates(jose, accountName).slice(0, 3)).toEqual(['jnunez', 'jose.nunez', 'jnunez2']);
  });

  it('keeps the counter whole within maxLength (sAMAccountName: 20)', () => {
    const short = rule(
      'composer',
      { target: 'accountName', candidates: ['lower(givenName + sn)'], unique: { scope: 'accountName', maxLength: 8, suffix: { separator: '.', start: 9 } } },
      composer,
    );
    const long = mesh({ givenName: held('Maximilian', HR), sn: held('Doe', HR) });
    expect(uniqueCandidates(long, short).slice(0, 3)).toEqual(['maximili', 'maximi.9', 'maxim.10']);
  });

  it('keeps a value the object already holds, and counts its own reservation as free', () => {
    const holder = mesh({ givenName: held('John', HR), sn: held('Smith', HR), accountName: held('jdoe', null, { ruleId: 'account' }) }, { id: 'mesh-john' });
    const result = composeValues(holder, [accountName], taken({ jdoe: 'mesh-john' }), { now: NOW });
    expect(result.changes).toEqual([]);
    expect(result.reservations).toEqual([]);
  });

  it('moves off a held value another object has reserved, releasing nothing it did not own', () => {
    const holder = mesh({ givenName: held('John', HR), sn: held('Doe', HR), accountName: held('jdoe', HR) }, { id: 'mesh-john' });
    const result = composeValues(holder, [accountName], taken({ jdoe: 'mesh-jane' }), { now: NOW });
    expect(result.attributes['accountName'].value).toBe('john.doe');
    expect(result.releases).toEqual([]);
  });

  it('recomputes when keepExisting is off, and releases the old value', () => {
    const recompute = rule(
      'composer',
      { target: 'accountName', candidates: ['lower(givenName + sn)'], unique: { scope: 'accountName', keepExisting: false } },
      { ...composer, id: 'recompute' },
    );
    const renamed = mesh({ givenName: held('John', HR), sn: held('Smith', HR), accountName: held('johndoe', null) }, { id: 'mesh-john' });
    const result = composeValues(renamed, [recompute], taken({ johndoe: 'mesh-john' }), { now: NOW });
    expect(result.attributes['accountName'].value).toBe('johnsmith');
    expect(result.releases).toEqual([{ scope: 'accountName', value: 'johndoe', meshObjectId: 'mesh-john', ruleId: 'recompute' }]);
  });

  it('fails the object with UNIQUE_VALUE_EXHAUSTED when every candidate is taken', () => {
    const few = rule('composer', { target: 'accountName', candidates: ['lower(givenName)'], unique: { scope: 'accountName', maxAttempts: 3 } }, { ...composer, id: 'few' });
    expect(() => composeValues(john, [few], taken({ john: 'a', john2: 'b', john3: 'c' }), { now: NOW })).toThrow(
      expect.objectContaining({ code: 'UNIQUE_VALUE_EXHAUSTED', details: expect.objectContaining({ attempts: 3, scope: 'accountName' }) }),
    );
  });

  it('leaves a unique attribute alone when no candidate has a value yet', () => {
    const result = composeValues(mesh({ givenName: held('John', HR) }), [accountName], taken({}), { now: NOW });
    expect(result.changes).toEqual([]);
  });

  it('composes plain values from several sources, each rule seeing the ones before it', () => {
    const displayName = rule('composer', { target: 'displayName', candidates: ['concat(givenName, " ", sn)'] }, { ...composer, ordinal: 5 });
    const mail = rule('composer', { target: 'mail', candidates: ['accountName + "@corp.example"'] }, { ...composer, ordinal: 6 });
    const result = composeValues(john, [mail, displayName, accountName], taken({}), { now: NOW });
    expect(result.attributes['displayName'].value).toBe('John Doe');
    expect(result.attributes['mail'].value).toBe('jdoe@corp.example');
  });

  it('clears a composed plain value whose sources are gone', () => {
    const nickname = rule('composer', { target: 'displayName', candidates: ['givenName'] }, { ...composer, id: 'nick' });
    const result = composeValues(mesh({ displayName: held('John', null) }), [nickname], taken({}), { now: NOW });
    expect(result.attributes['displayName']).toMatchObject({ value: null, connectorId: null });
  });
});
