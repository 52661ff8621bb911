import { ExpressionInvalidError } from '../expressions/expression.errors';
import { compileSyncRule, meshAttributeDeclarations, validateRuleDefinition } from './compile-rule';
import { RuleDefinitionInvalidError } from './rule.errors';
import { adGroupSchema, adUserSchema, hrPersonSchema, rule, schemas } from './testing/rule-fixtures';

function refused(run: () => unknown): RuleDefinitionInvalidError | ExpressionInvalidError {
  try {
    run();
  } catch (error) {
    if (error instanceof RuleDefinitionInvalidError || error instanceof ExpressionInvalidError) return error;
    throw error;
  }
  throw new Error('expected the definition to be refused');
}

describe('validateRuleDefinition', () => {
  const hr = schemas(hrPersonSchema);
  const ad = schemas(adUserSchema);

  it('accepts one valid definition of every kind and returns it typed', () => {
    expect(validateRuleDefinition('scoping', { condition: 'status != "terminated"' }, hr)).toEqual({ condition: 'status != "terminated"' });
    expect(
      validateRuleDefinition('join', { meshObjectType: 'person', mappings: [{ source: 'trim(employeeId)', meshAttribute: 'employeeId' }] }, hr).mappings,
    ).toHaveLength(1);
    expect(validateRuleDefinition('projection', { meshObjectType: 'person' }, hr)).toEqual({ meshObjectType: 'person' });
    expect(validateRuleDefinition('import-flow', { target: 'givenName', source: 'trim(givenName)' }, hr)).toEqual({
      target: 'givenName',
      source: 'trim(givenName)',
      nullHandling: 'clear',
    });
    expect(validateRuleDefinition('import-flow', { target: 'manager', reference: { attribute: 'managerId', by: 'anchor' } }, hr).reference).toEqual({
      attribute: 'managerId',
      by: 'anchor',
    });
    // A groups feed naming people of another connector by their anchors.
    expect(
      validateRuleDefinition('import-flow', { target: 'delegates', reference: { attribute: 'managerId', by: 'anchor', connectorId: 'hr-people', objectType: 'person' } }, hr).reference,
    ).toEqual({ attribute: 'managerId', by: 'anchor', connectorId: 'hr-people', objectType: 'person' });
    expect(validateRuleDefinition('export-flow', { target: 'mail', source: 'mail', nullHandling: 'keep' }, ad).nullHandling).toBe('keep');
    expect(
      validateRuleDefinition(
        'composer',
        { target: 'accountName', candidates: ['lower(normalize(givenName)) + lower(normalize(sn))'], unique: { scope: 'accountName', maxLength: 20 } },
        hr,
      ).unique,
    ).toEqual({ scope: 'accountName', maxLength: 20 });
    expect(
      validateRuleDefinition('provisioning', { targetConnectorId: 'ad', targetObjectType: 'user', dnTemplate: 'CN={{displayName}},OU=Staff,DC=corp' }, hr)
        .dnTemplate,
    ).toBe('CN={{displayName}},OU=Staff,DC=corp');
    expect(validateRuleDefinition('deprovisioning', { action: 'disable', attributes: { userAccountControl: 'bitOr(int(userAccountControl), 2)' } }, ad)).toEqual({
      action: 'disable',
      attributes: { userAccountControl: 'bitOr(int(userAccountControl), 2)' },
    });
  });

  it('names the field of a structural problem', () => {
    const error = refused(() => validateRuleDefinition('join', { meshObjectType: 'person', mappings: [{ source: 'employeeId' }] }, hr));
    expect(error).toBeInstanceOf(RuleDefinitionInvalidError);
    expect(error.code).toBe('RULE_DEFINITION_INVALID');
    expect(error.details).toMatchObject({ kind: 'join', field: 'mappings[0].meshAttribute' });
  });

  it('refuses unknown fields instead of ignoring a typo', () => {
    const error = refused(() => validateRuleDefinition('import-flow', { target: 'title', source: 'title', nullhandling: 'keep' }, hr));
    expect(error.details).toMatchObject({ field: 'nullhandling' });
  });

  it('refuses an object type for a reference without the other connector it belongs to', () => {
    const error = refused(() => validateRuleDefinition('import-flow', { target: 'manager', reference: { attribute: 'managerId', by: 'anchor', objectType: 'person' } }, hr));
    expect(error.details).toMatchObject({ field: 'reference.objectType' });
    expect(refused(() => validateRuleDefinition('import-flow', { target: 'manager', reference: { attribute: 'managerId', by: 'anchor', connector: 'hr' } }, hr)).details).toMatchObject({
      field: 'reference.connector',
    });
  });

  it('checks null handling and default values together', () => {
    expect(refused(() => validateRuleDefinition('import-flow', { target: 't', source: 'title', nullHandling: 'default' }, hr)).details).toMatchObject({
      field: 'defaultValue',
    });
    expect(
      refused(() => validateRuleDefinition('import-flow', { target: 't', source: 'title', nullHandling: 'clear', defaultValue: 'x' }, hr)).details,
    ).toMatchObject({ field: 'defaultValue' });
    expect(refused(() => validateRuleDefinition('import-flow', { target: 't', source: 'title', nullHandling: 'sometimes' }, hr)).details).toMatchObject({
      field: 'nullHandling',
    });
  });

  it('reports an invalid expression with the field and the position', () => {
    const error = refused(() => validateRuleDefinition('scoping', { condition: 'status == "active" && lowr(title) == "x"' }, hr));
    expect(error).toBeInstanceOf(ExpressionInvalidError);
    expect(error.code).toBe('EXPRESSION_INVALID');
    expect(error.details).toMatchObject({ field: 'condition', problem: 'unknown-function', position: { start: 22, line: 1, column: 23 } });
  });

  it('refuses expressions that read attributes the object does not have', () => {
    const error = refused(() => validateRuleDefinition('export-flow', { target: 'mail', source: 'email' }, ad));
    expect(error.details).toMatchObject({ field: 'source', problem: 'unknown-variable' });
  });

  it('refuses a condition that is not true/false and a list for a single value', () => {
    expect(refused(() => validateRuleDefinition('scoping', { condition: 'concat(title, "")' }, hr)).details).toMatchObject({ problem: 'type' });
    expect(refused(() => validateRuleDefinition('import-flow', { target: 't', source: 'split(title, ",")' }, hr)).details).toMatchObject({
      field: 'source',
    });
  });

  it('checks export targets, references and provisioning names', () => {
    expect(refused(() => validateRuleDefinition('export-flow', { target: 'nope', source: 'mail' }, ad)).details).toMatchObject({ field: 'target' });
    expect(refused(() => validateRuleDefinition('export-flow', { target: 'manager', reference: { attribute: 'title' } }, ad)).details).toMatchObject({
      field: 'reference.attribute',
    });
    expect(refused(() => validateRuleDefinition('export-flow', { target: 'mail', source: 'mail', reference: { attribute: 'manager' } }, ad)).details).toMatchObject({
      field: 'source',
    });
    expect(refused(() => validateRuleDefinition('provisioning', { targetConnectorId: 'ad', targetObjectType: 'user' }, hr)).details).toMatchObject({
      field: 'dnTemplate',
    });
    expect(
      refused(() => validateRuleDefinition('provisioning', { targetConnectorId: 'ad', targetObjectType: 'user', dnTemplate: 'CN={{displayName}' }, hr)).details,
    ).toMatchObject({ field: 'dnTemplate', problem: 'syntax' });
  });

  it('requires the disabling attributes for disable only', () => {
    expect(refused(() => validateRuleDefinition('deprovisioning', { action: 'disable' }, ad)).details).toMatchObject({ field: 'attributes' });
    expect(refused(() => validateRuleDefinition('deprovisioning', { action: 'delete', attributes: { description: '"x"' } }, ad)).details).toMatchObject({
      field: 'attributes',
    });
    expect(refused(() => validateRuleDefinition('deprovisioning', { action: 'archive' }, ad)).details).toMatchObject({ field: 'action' });
  });

  it('refuses an unknown kind and a definition that is not an object', () => {
    expect(refused(() => validateRuleDefinition('magic' as never, {}, hr)).details).toMatchObject({ field: 'kind' });
    expect(refused(() => validateRuleDefinition('scoping', 'status == "x"', hr)).code).toBe('RULE_DEFINITION_INVALID');
  });
});

describe('compileSyncRule and meshAttributeDeclarations', () => {
  it('resolves defaults once per run', () => {
    const flow = rule('export-flow', { target: 'proxyAddresses', source: 'aliases' }, { connectorId: 'ad', objectType: 'user', schemas: schemas(adUserSchema) });
    expect(flow).toMatchObject({ kind: 'export-flow', multiValued: true, nullHandling: 'clear', initialOnly: false });
    const members = rule('import-flow', { target: 'members', reference: { attribute: 'member', by: 'dn' } }, { schemas: schemas(adGroupSchema) });
    expect(members.multiValued).toBe(true);
  });

  it('derives the mesh attributes from import flows and composers', () => {
    const rules = [
      compileSyncRule({ id: 'a', kind: 'import-flow', connectorId: 'hr', objectType: 'person', ordinal: 1, definition: { target: 'givenName', source: 'givenName' } }, schemas()),
      compileSyncRule(
        { id: 'b', kind: 'import-flow', connectorId: 'hr', objectType: 'person', ordinal: 2, definition: { target: 'manager', reference: { attribute: 'managerId', by: 'anchor' } } },
        schemas(),
      ),
      compileSyncRule({ id: 'c', kind: 'composer', connectorId: null, objectType: 'person', ordinal: 1, definition: { target: 'displayName', candidates: ['givenName'] } }, schemas()),
    ];
    expect(meshAttributeDeclarations(rules)).toEqual([
      { name: 'givenName', multiValued: false, reference: false },
      { name: 'manager', multiValued: false, reference: true },
      { name: 'displayName', multiValued: false, reference: false },
    ]);
  });
});
