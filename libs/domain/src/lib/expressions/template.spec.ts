import type { MeshObjectView } from '../model/attributes';
import { ExpressionEvaluationError, ExpressionInvalidError, TemplateValueMissingError } from './expression.errors';
import { meshSubject } from './subjects';
import { compileTemplate, renderTemplate } from './template';

const variables = [{ name: 'displayName' }, { name: 'department' }, { name: 'employeeId' }, { name: 'mail', multiValued: true }];

function mesh(attributes: Record<string, string | string[] | null>): MeshObjectView {
  return {
    id: 'm1',
    objectType: 'person',
    attributes: Object.fromEntries(Object.entries(attributes).map(([k, value]) => [k, { value, connectorId: 'hr', at: '' }])),
  };
}

describe('templates', () => {
  it('escapes placeholder values in DN templates, not the literal text', () => {
    const template = compileTemplate('CN={{displayName}},OU={{department}},OU=Staff,DC=corp', { variables, space: 'mesh', escape: 'dn' });
    expect(renderTemplate(template, meshSubject(mesh({ displayName: 'Doe, John', department: '#R&D ' })))).toBe(
      'CN=Doe\\, John,OU=\\#R&D\\ ,OU=Staff,DC=corp',
    );
  });

  it('does not escape anchor templates', () => {
    const template = compileTemplate('emp-{{ lower(employeeId) }}', { variables, space: 'mesh', escape: 'none' });
    expect(renderTemplate(template, meshSubject(mesh({ employeeId: 'E1,2' })))).toBe('emp-e1,2');
  });

  it('finds the closing braces after string literals that contain them', () => {
    const template = compileTemplate('x-{{ concat("}}", employeeId) }}', { variables, space: 'mesh', escape: 'none' });
    expect(renderTemplate(template, meshSubject(mesh({ employeeId: '7' })))).toBe('x-}}7');
  });

  it('refuses to build a name with an empty placeholder', () => {
    const template = compileTemplate('CN={{displayName}},DC=corp', { variables, space: 'mesh', escape: 'dn' });
    expect(() => renderTemplate(template, meshSubject(mesh({ displayName: ' ' })))).toThrow(TemplateValueMissingError);
    expect(() => renderTemplate(template, meshSubject(mesh({})))).toThrow(/has no value/);
  });

  it('refuses several values for one placeholder', () => {
    const template = compileTemplate('{{mail}}', { variables, space: 'mesh', escape: 'none' });
    expect(() => renderTemplate(template, meshSubject(mesh({ mail: ['a', 'b'] })))).toThrow(ExpressionEvaluationError);
    expect(renderTemplate(template, meshSubject(mesh({ mail: ['a'] })))).toBe('a');
  });

  it('reports placeholder errors at their position in the template', () => {
    try {
      compileTemplate('CN={{displayNam}},DC=corp', { variables, space: 'mesh', escape: 'dn' });
      throw new Error('expected a refusal');
    } catch (error) {
      expect(error).toBeInstanceOf(ExpressionInvalidError);
      expect((error as ExpressionInvalidError).problem).toBe('unknown-variable');
      expect((error as ExpressionInvalidError).position.start).toBe(5);
    }
  });

  it('refuses unclosed placeholders and DN templates that are no DN', () => {
    expect(() => compileTemplate('CN={{displayName,DC=corp', { variables, space: 'mesh', escape: 'dn' })).toThrow(/not closed/);
    expect(() => compileTemplate('{{displayName}}', { variables, space: 'mesh', escape: 'dn' })).toThrow(/distinguished name/);
  });
});
