import { assertUnreachable } from '../errors/domain-error';
import type { AttributeDeclaration, AttributeScalar } from '../model/attributes';
import { DEPROVISIONING_ACTIONS, isOneOf, NULL_HANDLING, SYNC_RULE_KINDS } from '../model/vocabulary';
import type { DeprovisioningAction, NullHandling, SyncRuleKind } from '../model/vocabulary';
import type { ExpressionLimits } from '../expressions/cel-runtime';
import { compileExpression } from '../expressions/expression';
import type { CompiledExpression, ExpressionSpace } from '../expressions/expression';
import { ExpressionInvalidError } from '../expressions/expression.errors';
import { compileTemplate } from '../expressions/template';
import type { CompiledTemplate, TemplateEscaping } from '../expressions/template';
import { DefinitionReader } from './definition-reader';
import type {
  ComposerDefinition,
  DeprovisioningDefinition,
  ExportFlowDefinition,
  ExportReferenceSource,
  ImportFlowDefinition,
  ImportReferenceSource,
  JoinDefinition,
  ProjectionDefinition,
  ProvisioningDefinition,
  RuleDefinitionOf,
  ScopingDefinition,
  SyncRuleRecord,
} from './rule-definitions';
import { RuleDefinitionInvalidError } from './rule.errors';

/** What the expressions of a rule may read. */
export interface RuleSchemas {
  /**
   * Attributes of the connector-space objects the rule reads or writes: the
   * connector's schema for the rule's object type (for provisioning and
   * composer rules, unused).
   */
  connectorSpace: readonly AttributeDeclaration[];
  /** Attributes of the mesh object type; see meshAttributeDeclarations. */
  mesh: readonly AttributeDeclaration[];
  /** @default DEFAULT_EXPRESSION_LIMITS */
  limits?: Partial<ExpressionLimits>;
}

interface CompiledRuleBase<K extends SyncRuleKind> {
  id: string;
  kind: K;
  connectorId: string | null;
  objectType: string;
  ordinal: number;
  name?: string;
  definition: RuleDefinitionOf<K>;
}

export interface CompiledScopingRule extends CompiledRuleBase<'scoping'> {
  condition: CompiledExpression;
}

export interface CompiledJoinRule extends CompiledRuleBase<'join'> {
  meshObjectType: string;
  mappings: Array<{ source: CompiledExpression; meshAttribute: string }>;
}

export interface CompiledProjectionRule extends CompiledRuleBase<'projection'> {
  meshObjectType: string;
  condition?: CompiledExpression;
}

interface CompiledFlow {
  target: string;
  source?: CompiledExpression;
  multiValued: boolean;
  nullHandling: NullHandling;
  /** The values nullHandling 'default' writes; empty otherwise. */
  defaultValues: AttributeScalar[];
}

export interface CompiledImportFlowRule extends CompiledRuleBase<'import-flow'>, CompiledFlow {
  reference?: ImportReferenceSource;
}

export interface CompiledExportFlowRule extends CompiledRuleBase<'export-flow'>, CompiledFlow {
  reference?: Required<ExportReferenceSource>;
  initialOnly: boolean;
}

export interface CompiledUniqueness {
  scope: string;
  start: number;
  separator: string;
  maxAttempts: number;
  maxLength?: number;
  keepExisting: boolean;
}

export interface CompiledComposerRule extends CompiledRuleBase<'composer'> {
  target: string;
  candidates: CompiledExpression[];
  unique?: CompiledUniqueness;
}

export interface CompiledProvisioningRule extends CompiledRuleBase<'provisioning'> {
  targetConnectorId: string;
  targetObjectType: string;
  condition?: CompiledExpression;
  dnTemplate?: CompiledTemplate;
  anchorTemplate?: CompiledTemplate;
  renameOnChange: boolean;
}

export interface CompiledDeprovisioningRule extends CompiledRuleBase<'deprovisioning'> {
  action: DeprovisioningAction;
  attributes: Array<{ attribute: string; expression: CompiledExpression; multiValued: boolean }>;
}

export interface CompiledRules {
  scoping: CompiledScopingRule;
  join: CompiledJoinRule;
  projection: CompiledProjectionRule;
  'import-flow': CompiledImportFlowRule;
  'export-flow': CompiledExportFlowRule;
  composer: CompiledComposerRule;
  provisioning: CompiledProvisioningRule;
  deprovisioning: CompiledDeprovisioningRule;
}

export type CompiledRuleOf<K extends SyncRuleKind> = CompiledRules[K];
export type CompiledSyncRule = CompiledRules[SyncRuleKind];

type Header = Omit<CompiledRuleBase<SyncRuleKind>, 'kind' | 'definition'>;

/** Compiles the expressions of one definition, reporting failures against the field they came from. */
class RuleCompiler {
  constructor(
    readonly kind: SyncRuleKind,
    private readonly schemas: RuleSchemas,
  ) {}

  declarations(space: ExpressionSpace): readonly AttributeDeclaration[] {
    return space === 'mesh' ? this.schemas.mesh : this.schemas.connectorSpace;
  }

  declared(space: ExpressionSpace, name: string): AttributeDeclaration | undefined {
    return this.declarations(space).find((d) => d.name === name);
  }

  expression(source: string, field: string, space: ExpressionSpace, expect: 'value' | 'condition' = 'value'): CompiledExpression {
    try {
      return compileExpression(source, { variables: this.declarations(space), space, expect, limits: this.schemas.limits });
    } catch (error) {
      if (error instanceof ExpressionInvalidError) throw error.inField(field);
      throw error;
    }
  }

  template(source: string, field: string, escape: TemplateEscaping): CompiledTemplate {
    try {
      return compileTemplate(source, { variables: this.schemas.mesh, space: 'mesh', escape, limits: this.schemas.limits });
    } catch (error) {
      if (error instanceof ExpressionInvalidError) throw error.inField(field);
      throw error;
    }
  }

  fail(field: string, problem: string): never {
    throw new RuleDefinitionInvalidError(this.kind, field, problem);
  }
}

function asList(value: AttributeScalar | AttributeScalar[] | undefined): AttributeScalar[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** The parts import and export flows share: source or reference, multiplicity, null handling. */
function readFlow(
  c: RuleCompiler,
  r: DefinitionReader,
  space: ExpressionSpace,
  multiValuedDefault: boolean,
): Omit<CompiledFlow, 'target'> & { defaultValue?: AttributeScalar | AttributeScalar[] } {
  if (r.has('source') === r.has('reference')) c.fail('source', 'exactly one of source and reference is required');
  const multiValued = r.optionalBoolean('multiValued') ?? multiValuedDefault;
  const source = r.has('source') ? c.expression(r.string('source'), 'source', space) : undefined;
  if (source && !multiValued && source.resultType.startsWith('list')) {
    c.fail('source', 'yields a list for a single-valued attribute; set multiValued or pick one value with first()');
  }
  const nullHandling = r.oneOf('nullHandling', NULL_HANDLING, 'clear');
  const defaultValue = r.optionalScalars('defaultValue');
  if (nullHandling === 'default' && defaultValue === undefined) c.fail('defaultValue', "is required with nullHandling 'default'");
  if (nullHandling !== 'default' && defaultValue !== undefined) c.fail('defaultValue', "is only used with nullHandling 'default'");
  const defaultValues = asList(defaultValue);
  if (nullHandling === 'default' && !multiValued && defaultValues.length !== 1) {
    c.fail('defaultValue', 'must be one value for a single-valued attribute');
  }
  return { source, multiValued, nullHandling, defaultValues, defaultValue };
}

function compileScoping(c: RuleCompiler, definition: unknown): Omit<CompiledScopingRule, keyof Header | 'kind'> {
  const r = DefinitionReader.root(c.kind, definition, ['condition']);
  const condition = r.string('condition');
  const def: ScopingDefinition = { condition };
  return { definition: def, condition: c.expression(condition, 'condition', 'connector-space', 'condition') };
}

function compileJoin(c: RuleCompiler, definition: unknown): Omit<CompiledJoinRule, keyof Header | 'kind'> {
  const r = DefinitionReader.root(c.kind, definition, ['meshObjectType', 'mappings']);
  const meshObjectType = r.string('meshObjectType');
  const mappings = r.objects('mappings', ['source', 'meshAttribute']).map((m, i) => {
    const source = m.string('source');
    const meshAttribute = m.string('meshAttribute');
    if (!c.declared('mesh', meshAttribute)) {
      c.fail(`mappings[${i}].meshAttribute`, `names no mesh attribute of ${meshObjectType} ("${meshAttribute}")`);
    }
    return { source, meshAttribute };
  });
  const def: JoinDefinition = { meshObjectType, mappings };
  return {
    definition: def,
    meshObjectType,
    mappings: mappings.map((m, i) => ({
      source: c.expression(m.source, `mappings[${i}].source`, 'connector-space'),
      meshAttribute: m.meshAttribute,
    })),
  };
}

function compileProjection(c: RuleCompiler, definition: unknown): Omit<CompiledProjectionRule, keyof Header | 'kind'> {
  const r = DefinitionReader.root(c.kind, definition, ['meshObjectType', 'condition']);
  const meshObjectType = r.string('meshObjectType');
  const condition = r.optionalString('condition');
  const def: ProjectionDefinition = condition === undefined ? { meshObjectType } : { meshObjectType, condition };
  return {
    definition: def,
    meshObjectType,
    condition: condition === undefined ? undefined : c.expression(condition, 'condition', 'connector-space', 'condition'),
  };
}

function compileImportFlow(c: RuleCompiler, definition: unknown): Omit<CompiledImportFlowRule, keyof Header | 'kind'> {
  const r = DefinitionReader.root(c.kind, definition, ['target', 'source', 'reference', 'multiValued', 'nullHandling', 'defaultValue']);
  const target = r.string('target');
  let reference: ImportReferenceSource | undefined;
  let multiValuedDefault = false;
  if (r.has('reference')) {
    const ref = r.object('reference', ['attribute', 'by', 'connectorId', 'objectType']);
    reference = stripUndefined({
      attribute: ref.string('attribute'),
      by: ref.oneOf('by', ['dn', 'anchor'] as const),
      connectorId: ref.optionalString('connectorId'),
      objectType: ref.optionalString('objectType'),
    });
    if (reference.objectType !== undefined && reference.connectorId === undefined) c.fail('reference.objectType', 'names the type of the objects of another connector; give that connector in reference.connectorId');
    const declaration = c.declared('connector-space', reference.attribute);
    if (!declaration) c.fail('reference.attribute', `names no attribute of the connector ("${reference.attribute}")`);
    multiValuedDefault = declaration.multiValued === true;
  }
  const flow = readFlow(c, r, 'connector-space', multiValuedDefault);
  if (reference && flow.nullHandling === 'default') c.fail('nullHandling', "a reference cannot have a default value; use 'clear' or 'keep'");
  const def: ImportFlowDefinition = stripUndefined({
    target,
    source: flow.source?.source,
    reference,
    multiValued: r.optionalBoolean('multiValued'),
    nullHandling: flow.nullHandling,
    defaultValue: flow.defaultValue,
  });
  const { source, multiValued, nullHandling, defaultValues } = flow;
  return { definition: def, target, reference, source, multiValued, nullHandling, defaultValues };
}

function compileExportFlow(c: RuleCompiler, definition: unknown): Omit<CompiledExportFlowRule, keyof Header | 'kind'> {
  const r = DefinitionReader.root(c.kind, definition, [
    'target',
    'source',
    'reference',
    'multiValued',
    'nullHandling',
    'defaultValue',
    'initialOnly',
  ]);
  const target = r.string('target');
  const declaration = c.declared('connector-space', target);
  if (!declaration) c.fail('target', `names no attribute of the target connector ("${target}")`);
  let reference: Required<ExportReferenceSource> | undefined;
  if (r.has('reference')) {
    const ref = r.object('reference', ['attribute', 'by']);
    reference = { attribute: ref.string('attribute'), by: ref.oneOf('by', ['dn', 'anchor'] as const, 'dn') };
    const meshDeclaration = c.declared('mesh', reference.attribute);
    if (!meshDeclaration?.reference) c.fail('reference.attribute', `names no mesh reference attribute ("${reference.attribute}")`);
  }
  const flow = readFlow(c, r, 'mesh', declaration.multiValued === true);
  if (flow.multiValued && !declaration.multiValued) c.fail('multiValued', `the target attribute ${target} holds one value`);
  if (reference && flow.nullHandling === 'default') c.fail('nullHandling', "a reference cannot have a default value; use 'clear' or 'keep'");
  const initialOnly = r.optionalBoolean('initialOnly') ?? false;
  const def: ExportFlowDefinition = stripUndefined({
    target,
    source: flow.source?.source,
    reference,
    multiValued: r.optionalBoolean('multiValued'),
    nullHandling: flow.nullHandling,
    defaultValue: flow.defaultValue,
    initialOnly: r.optionalBoolean('initialOnly'),
  });
  return {
    definition: def,
    target,
    reference,
    source: flow.source,
    multiValued: flow.multiValued,
    nullHandling: flow.nullHandling,
    defaultValues: flow.defaultValues,
    initialOnly,
  };
}

function compileComposer(c: RuleCompiler, definition: unknown): Omit<CompiledComposerRule, keyof Header | 'kind'> {
  const r = DefinitionReader.root(c.kind, definition, ['target', 'candidates', 'unique']);
  const target = r.string('target');
  const sources = r.strings('candidates');
  const candidates = sources.map((source, i) => {
    const compiled = c.expression(source, `candidates[${i}]`, 'mesh');
    if (compiled.resultType.startsWith('list')) c.fail(`candidates[${i}]`, 'yields a list; a composed value is one value');
    return compiled;
  });
  const def: ComposerDefinition = { target, candidates: sources };
  const u = r.optionalObject('unique', ['scope', 'suffix', 'maxAttempts', 'maxLength', 'keepExisting']);
  let unique: CompiledUniqueness | undefined;
  if (u) {
    const suffixReader = u.optionalObject('suffix', ['start', 'separator']);
    const suffix = suffixReader
      ? stripUndefined({ start: suffixReader.optionalInteger('start', 0, 1_000_000), separator: suffixReader.optionalText('separator') })
      : undefined;
    const declared = stripUndefined({
      scope: u.string('scope'),
      suffix,
      maxAttempts: u.optionalInteger('maxAttempts', 1, 10_000),
      maxLength: u.optionalInteger('maxLength', 1, 1024),
      keepExisting: u.optionalBoolean('keepExisting'),
    });
    def.unique = declared;
    unique = {
      scope: declared.scope,
      start: suffix?.start ?? 2,
      separator: suffix?.separator ?? '',
      maxAttempts: declared.maxAttempts ?? 100,
      maxLength: declared.maxLength,
      keepExisting: declared.keepExisting ?? true,
    };
  }
  return { definition: def, target, candidates, unique };
}

function compileProvisioning(c: RuleCompiler, definition: unknown): Omit<CompiledProvisioningRule, keyof Header | 'kind'> {
  const r = DefinitionReader.root(c.kind, definition, [
    'targetConnectorId',
    'targetObjectType',
    'condition',
    'dnTemplate',
    'anchorTemplate',
    'renameOnChange',
  ]);
  const def: ProvisioningDefinition = stripUndefined({
    targetConnectorId: r.string('targetConnectorId'),
    targetObjectType: r.string('targetObjectType'),
    condition: r.optionalString('condition'),
    dnTemplate: r.optionalString('dnTemplate'),
    anchorTemplate: r.optionalString('anchorTemplate'),
    renameOnChange: r.optionalBoolean('renameOnChange'),
  });
  if (!def.dnTemplate && !def.anchorTemplate) c.fail('dnTemplate', 'or anchorTemplate is required to name the new object');
  if (def.renameOnChange && !def.dnTemplate) c.fail('renameOnChange', 'needs a dnTemplate');
  return {
    definition: def,
    targetConnectorId: def.targetConnectorId,
    targetObjectType: def.targetObjectType,
    condition: def.condition === undefined ? undefined : c.expression(def.condition, 'condition', 'mesh', 'condition'),
    dnTemplate: def.dnTemplate === undefined ? undefined : c.template(def.dnTemplate, 'dnTemplate', 'dn'),
    anchorTemplate: def.anchorTemplate === undefined ? undefined : c.template(def.anchorTemplate, 'anchorTemplate', 'none'),
    renameOnChange: def.renameOnChange ?? false,
  };
}

function compileDeprovisioning(c: RuleCompiler, definition: unknown): Omit<CompiledDeprovisioningRule, keyof Header | 'kind'> {
  const r = DefinitionReader.root(c.kind, definition, ['action', 'attributes']);
  const action = r.oneOf('action', DEPROVISIONING_ACTIONS);
  if (action === 'disable' && !r.has('attributes')) c.fail('attributes', "are required for 'disable': the attributes that disable the object");
  if (action !== 'disable' && r.has('attributes')) c.fail('attributes', "are only used with action 'disable'");
  const attributes = action === 'disable' ? r.stringMap('attributes') : undefined;
  const def: DeprovisioningDefinition = attributes ? { action, attributes } : { action };
  return {
    definition: def,
    action,
    attributes: Object.entries(attributes ?? {}).map(([attribute, source]) => {
      const declaration = c.declared('connector-space', attribute);
      if (!declaration) c.fail(`attributes.${attribute}`, 'names no attribute of the connector');
      const expression = c.expression(source, `attributes.${attribute}`, 'connector-space');
      if (!declaration.multiValued && expression.resultType.startsWith('list')) {
        c.fail(`attributes.${attribute}`, 'yields a list for a single-valued attribute');
      }
      return { attribute, expression, multiValued: declaration.multiValued === true };
    }),
  };
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function compileDefinition<K extends SyncRuleKind>(kind: K, definition: unknown, schemas: RuleSchemas, header: Header): CompiledRuleOf<K> {
  if (!isOneOf(SYNC_RULE_KINDS, kind)) throw new RuleDefinitionInvalidError(String(kind), 'kind', `must be one of ${SYNC_RULE_KINDS.join(', ')}`);
  const c = new RuleCompiler(kind, schemas);
  const k: SyncRuleKind = kind;
  let body: object;
  switch (k) {
    case 'scoping':
      body = compileScoping(c, definition);
      break;
    case 'join':
      body = compileJoin(c, definition);
      break;
    case 'projection':
      body = compileProjection(c, definition);
      break;
    case 'import-flow':
      body = compileImportFlow(c, definition);
      break;
    case 'export-flow':
      body = compileExportFlow(c, definition);
      break;
    case 'composer':
      body = compileComposer(c, definition);
      break;
    case 'provisioning':
      body = compileProvisioning(c, definition);
      break;
    case 'deprovisioning':
      body = compileDeprovisioning(c, definition);
      break;
    default:
      return assertUnreachable(k);
  }
  return { ...header, kind, ...body } as CompiledRuleOf<K>;
}

/**
 * Checks a rule definition before it is saved and returns it typed: its
 * shape (unknown fields are refused), and every expression and template in
 * it against the attributes it may read.
 *
 * @throws RuleDefinitionInvalidError (RULE_DEFINITION_INVALID) naming the field.
 * @throws ExpressionInvalidError (EXPRESSION_INVALID) naming the field and the position in the expression.
 */
export function validateRuleDefinition<K extends SyncRuleKind>(kind: K, definition: unknown, schemas: RuleSchemas): RuleDefinitionOf<K> {
  return compileDefinition(kind, definition, schemas, { id: '', connectorId: null, objectType: '', ordinal: 0 }).definition as RuleDefinitionOf<K>;
}

/** Compiles a stored rule once per run, so each object only evaluates. Same errors as validateRuleDefinition. */
export function compileSyncRule<K extends SyncRuleKind>(rule: SyncRuleRecord<K>, schemas: RuleSchemas): CompiledRuleOf<K> {
  return compileDefinition(rule.kind, rule.definition, schemas, {
    id: rule.id,
    connectorId: rule.connectorId,
    objectType: rule.objectType,
    ordinal: rule.ordinal,
    ...(rule.name === undefined ? {} : { name: rule.name }),
  });
}

/**
 * The mesh attributes a set of rules produces (import-flow and composer
 * targets), which is what mesh-side expressions may read. Compile import
 * flows first (they read only connector space), derive these, then compile
 * the rules that read the mesh.
 */
export function meshAttributeDeclarations(rules: readonly CompiledSyncRule[], meshObjectType?: string): AttributeDeclaration[] {
  const byName = new Map<string, AttributeDeclaration>();
  const add = (name: string, multiValued: boolean, reference: boolean) => {
    const seen = byName.get(name);
    byName.set(name, { name, multiValued: multiValued || seen?.multiValued === true, reference: reference || seen?.reference === true });
  };
  for (const rule of rules) {
    if (rule.kind === 'import-flow') add(rule.target, rule.multiValued, rule.reference !== undefined);
    if (rule.kind === 'composer' && (meshObjectType === undefined || rule.objectType === meshObjectType)) add(rule.target, false, false);
  }
  return [...byName.values()];
}

/** Rules in evaluation order: by ordinal, then id so equal ordinals stay stable. */
export function inOrdinalOrder<T extends { ordinal: number; id: string }>(rules: readonly T[]): readonly T[] {
  for (let i = 1; i < rules.length; i++) {
    if (rules[i - 1].ordinal > rules[i].ordinal || (rules[i - 1].ordinal === rules[i].ordinal && rules[i - 1].id > rules[i].id)) {
      return [...rules].sort((a, b) => a.ordinal - b.ordinal || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    }
  }
  return rules;
}
