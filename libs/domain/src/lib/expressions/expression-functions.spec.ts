import { compileExpression } from './expression';
import { csoSubject } from './subjects';
import { stripDiacritics } from './expression-functions';

const subject = csoSubject({
  connectorId: 'hr',
  objectType: 'person',
  anchor: 'E1',
  attributes: { givenName: ['Anne-Marie'], middleName: [], sn: ["O'Brien"], tags: ['x', '', 'y'], code: ['E012345'] },
});
const variables = [{ name: 'givenName' }, { name: 'middleName' }, { name: 'sn' }, { name: 'code' }, { name: 'tags', multiValued: true }];

function run(source: string) {
  return compileExpression(source, { variables }).evaluate(subject);
}

describe('expression functions', () => {
  it.each([
    ['lower("JDoe")', 'jdoe'],
    ['upper("jdoe")', 'JDOE'],
    ['trim("  jdoe ")', 'jdoe'],
    ['normalize("José Ñúñez")', 'Jose Nunez'],
    ['normalize("Søren Straße Łukasz Æsir")', 'Soren Strasse Lukasz AEsir'],
    ['alphanumeric(sn)', 'OBrien'],
    ['alphanumeric(normalize("Zoë Núñez-Ruiz"))', 'ZoeNunezRuiz'],
    ['left(givenName, 1)', 'A'],
    ['left(givenName, 100)', 'Anne-Marie'],
    ['right(code, 3)', '345'],
    ['substring(givenName, 0, 4)', 'Anne'],
    ['substring(givenName, 5)', 'Marie'],
    ['substring(givenName, 50, 60)', ''],
    ['replace(givenName, "-", " ")', 'Anne Marie'],
    ['split("a;b;c", ";")', ['a', 'b', 'c']],
    ['join(tags, ",")', 'x,y'],
    ['join(split("a b", " "))', 'ab'],
    ['concat(givenName, " ", middleName, " ", sn)', "Anne-Marie  O'Brien"],
    ['concat("E", 42)', 'E42'],
    ['coalesce(middleName, "", givenName)', 'Anne-Marie'],
    ['coalesce(middleName, "")', null],
    ['first(tags)', 'x'],
    ['first(givenName)', 'Anne-Marie'],
    ['isEmpty(middleName)', true],
    ['isEmpty(tags)', false],
    ['escapeDn("Doe, John")', 'Doe\\, John'],
    ['bitOr(512, 2)', 514],
    ['bitAnd(514, 2)', 2],
    ['left("😀abc", 2)', '😀a'],
  ])('%s', (source, expected) => {
    expect(run(source)).toEqual(expected);
  });

  it('passes an absent value through text functions instead of failing', () => {
    expect(run('lower(middleName)')).toBeNull();
    expect(run('left(middleName, 1)')).toBeNull();
    expect(run('split(middleName, ",")')).toEqual([]);
    expect(run('replace(middleName, "a", "b")')).toBeNull();
  });

  it('strips diacritics without touching plain ASCII', () => {
    expect(stripDiacritics('Ångström Ēvija Čapek')).toBe('Angstrom Evija Capek');
    expect(stripDiacritics('jdoe')).toBe('jdoe');
  });

  it('bounds the text a function can build', () => {
    const compiled = compileExpression('join(tags, sn)', { variables, limits: { maxStringLength: 8 } });
    const long = csoSubject({ connectorId: 'c', objectType: 'p', anchor: 'a', attributes: { tags: ['aaaa', 'bbbb'], sn: ['---'] } });
    expect(() => compiled.evaluate(long)).toThrow(/longer than 8 characters/);
  });
});
