import type { AttributeDeclaration, ConnectorSpaceObjectView } from '../model/attributes';
import { compileExpression } from './expression';
import type { CompileExpressionOptions } from './expression';
import { ExpressionEvaluationError, ExpressionInvalidError } from './expression.errors';
import { csoSubject, meshSubject } from './subjects';

const variables: AttributeDeclaration[] = [
  { name: 'givenName' },
  { name: 'sn' },
  { name: 'mail' },
  { name: 'employeeNumber' },
  { name: 'userAccountControl' },
  { name: 'memberOf', multiValued: true },
  { name: 'proxyAddresses', multiValued: true },
  { name: 'Employee ID' },
];

const cso: ConnectorSpaceObjectView = {
  connectorId: 'hr',
  objectType: 'person',
  anchor: 'E1001',
  dn: 'CN=Doe\\, John,OU=Staff,DC=corp',
  attributes: {
    givenName: ['José'],
    sn: ['Ñúñez'],
    employeeNumber: [1001],
    userAccountControl: ['512'],
    memberOf: ['cn=a', 'cn=b'],
    proxyAddresses: [],
    'Employee ID': ['E-1001'],
  },
};

function run(source: string, options: Partial<CompileExpressionOptions> = {}, object = cso) {
  return compileExpression(source, { variables, ...options }).evaluate(csoSubject(object));
}

function invalid(source: string, options: Partial<CompileExpressionOptions> = {}): ExpressionInvalidError {
  try {
    compileExpression(source, { variables, ...options });
  } catch (error) {
    expect(error).toBeInstanceOf(ExpressionInvalidError);
    expect((error as ExpressionInvalidError).code).toBe('EXPRESSION_INVALID');
    return error as ExpressionInvalidError;
  }
  throw new Error(`expected ${source} to be refused`);
}

describe('compileExpression', () => {
  it('exposes single-valued attributes as values and multi-valued ones as lists', () => {
    expect(run('givenName')).toBe('José');
    expect(run('mail')).toBeNull();
    expect(run('memberOf')).toEqual(['cn=a', 'cn=b']);
    expect(run('proxyAddresses')).toEqual([]);
    expect(run('size(memberOf)')).toBe(2);
    expect(run('"cn=b" in memberOf')).toBe(true);
  });

  it('builds the account name of the requirement from a name with diacritics', () => {
    expect(run('lower(normalize(givenName)) + "." + lower(normalize(sn))')).toBe('jose.nunez');
  });

  it('treats whole numbers as CEL ints and gives numbers back', () => {
    expect(run('employeeNumber + 1')).toBe(1002);
    expect(run('bitOr(int(userAccountControl), 2)')).toBe(514);
  });

  it('offers the object fields and the attr map for names that are not identifiers', () => {
    expect(run('anchor')).toBe('E1001');
    expect(run('dn.endsWith(",OU=Staff,DC=corp")')).toBe(true);
    expect(run('attr["Employee ID"]')).toBe('E-1001');
    expect(run('objectType')).toBe('person');
    // used as a whole, the map holds every declared attribute
    expect(run('size(attr)')).toBe(variables.length);
    expect(run('attr["Employee ID"] + ":" + string(size(attr["memberOf"]))')).toBe('E-1001:2');
  });

  it('reads mesh objects, with meshObjectId instead of dn and anchor', () => {
    const compiled = compileExpression('meshObjectId + ":" + displayName', { variables: [{ name: 'displayName' }], space: 'mesh' });
    expect(
      compiled.evaluate(
        meshSubject({ id: 'm1', objectType: 'person', attributes: { displayName: { value: 'Jane', connectorId: 'hr', at: '' } } }),
      ),
    ).toBe('m1:Jane');
    expect(invalid('anchor', { space: 'mesh' }).problem).toBe('unknown-variable');
  });

  it('lists what it reads so the engine knows the inputs', () => {
    expect(compileExpression('concat(givenName, sn) + anchor', { variables }).reads).toEqual(['givenName', 'sn', 'anchor']);
  });

  it('tests conditions: true only for true, absent counts as false', () => {
    const condition = compileExpression('mail', { variables, expect: 'condition' });
    expect(condition.test(csoSubject(cso))).toBe(false);
    const isStaff = compileExpression('dn.endsWith(",OU=Staff,DC=corp")', { variables, expect: 'condition' });
    expect(isStaff.test(csoSubject(cso))).toBe(true);
  });

  describe('refuses at validation', () => {
    it('syntax errors, with the position', () => {
      const error = invalid('lower(givenName) +');
      expect(error.problem).toBe('syntax');
      expect(error.position).toMatchObject({ line: 1, column: 19 });
      expect(error.details).toMatchObject({ problem: 'syntax' });
    });

    it('unknown functions, with the position of the call', () => {
      const error = invalid('givenName + lowercase(sn)');
      expect(error.problem).toBe('unknown-function');
      expect(error.message).toContain('lowercase');
      expect(error.position).toMatchObject({ start: 12, line: 1, column: 13 });
      expect(invalid('sn.reverse()').problem).toBe('unknown-function');
    });

    it('unknown variables and unknown attr keys', () => {
      const error = invalid('givenName + "." + surname');
      expect(error.problem).toBe('unknown-variable');
      expect(error.message).toContain('surname');
      expect(error.position.start).toBe(18);
      expect(invalid('attr["Employee Id"]').problem).toBe('unknown-variable');
    });

    it('type errors and conditions that are not true/false', () => {
      expect(invalid('"a" + 1').problem).toBe('type');
      expect(invalid('concat(givenName, sn)', { expect: 'condition' }).problem).toBe('type');
      expect(invalid('size(memberOf)', { expect: 'condition' }).problem).toBe('type');
      expect(invalid('{"a": givenName}').problem).toBe('type');
    });

    it('an empty expression', () => {
      expect(invalid('   ').problem).toBe('syntax');
    });
  });

  describe('hostile expressions', () => {
    it('very long input is refused before it is parsed', () => {
      const error = invalid(`"${'a'.repeat(10_000)}"`);
      expect(error.problem).toBe('limit');
      expect(error.message).toContain('4096');
    });

    it('deep nesting is refused', () => {
      expect(invalid(`${'('.repeat(200)}1${')'.repeat(200)}`).problem).toBe('limit');
      expect(invalid(`${'lower('.repeat(60)}givenName${')'.repeat(60)}`).problem).toBe('limit');
    });

    it('huge trees and literals are refused', () => {
      expect(invalid(Array(400).fill('1').join(' + ')).problem).toBe('limit');
      expect(invalid(`[${Array(100).fill('"x"').join(',')}]`).problem).toBe('limit');
    });

    it('regular expressions are refused (they can backtrack exponentially)', () => {
      const error = invalid('givenName.matches("(a+)+$")');
      expect(error.problem).toBe('forbidden');
    });

    it('cel.bind is refused (it can double a text per level)', () => {
      expect(invalid('cel.bind(a, givenName + givenName, a + a)').problem).toBe('forbidden');
    });

    it('nested comprehensions and lists inside a comprehension body are refused', () => {
      expect(invalid('memberOf.exists(a, proxyAddresses.exists(b, a == b))').problem).toBe('forbidden');
      expect(invalid('memberOf.map(a, join(memberOf, ","))').problem).toBe('forbidden');
      expect(invalid('memberOf.map(a, attr["sn"])').problem).toBe('forbidden');
      // One comprehension at a time, chained or reading single values, is fine.
      expect(run('memberOf.filter(g, g != "cn=a").map(g, upper(g) + sn)')).toEqual(['CN=BÑúñez']);
    });

    it('oversized inputs fail the object, not the run', () => {
      const big = { ...cso, attributes: { ...cso.attributes, givenName: ['x'.repeat(20_000)] } };
      expect(() => run('givenName', {}, big)).toThrow(ExpressionEvaluationError);
      const many = { ...cso, attributes: { ...cso.attributes, memberOf: Array(20).fill('g') } };
      expect(() => run('size(memberOf)', { limits: { maxListLength: 10 } }, many)).toThrow(/more than 10 values/);
    });
  });

  describe('evaluation errors are per object and coded', () => {
    it('an absent input gives no value instead of an error (it propagates like SQL NULL)', () => {
      expect(run('mail + "x"')).toBeNull();
      expect(run('"x" + lower(mail) + "y"')).toBeNull();
      expect(run('mail.startsWith("a")', { expect: 'condition' })).toBeNull();
      expect(run('attr["Employee ID"] + mail')).toBeNull();
      // never a "null" spelt into text
      expect(run('concat("x", mail, "y")')).toBe('xy');
    });

    it('a failure with every input present is a coded per-object error', () => {
      let caught: unknown;
      try {
        run('givenName + 1');
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ExpressionEvaluationError);
      expect((caught as ExpressionEvaluationError).code).toBe('EXPRESSION_EVALUATION_FAILED');
    });

    it('division by zero and failing functions', () => {
      expect(() => run('employeeNumber / 0')).toThrow(/division by zero/);
      expect(() => run('concat(memberOf, "x")')).toThrow(ExpressionEvaluationError);
    });

    it('results that are no attribute value', () => {
      expect(() => run('[memberOf, memberOf]')).toThrow(/list of lists/);
    });
  });

  it('evaluates fast once compiled (the engine runs 100k objects per run)', () => {
    const compiled = compileExpression('lower(normalize(givenName)) + "." + lower(normalize(sn))', { variables });
    const subject = csoSubject(cso);
    const started = performance.now();
    for (let i = 0; i < 2_000; i++) compiled.evaluate(subject);
    // Generous bound for shared CI machines; locally this is a few milliseconds.
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
