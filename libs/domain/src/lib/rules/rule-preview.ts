import { assertUnreachable, DomainError } from '../errors/domain-error';
import type { DomainErrorCode } from '../errors/domain-error';
import type { ExpressionValue } from '../expressions/expression';
import { csoSubject } from '../expressions/subjects';
import type { ConnectorSpaceObjectView, MeshObjectView } from '../model/attributes';
import type { SyncRuleKind } from '../model/vocabulary';
import { compileSyncRule } from './compile-rule';
import type { CompiledRuleOf, RuleSchemas } from './compile-rule';
import { composeValues, uniqueCandidates } from './composer';
import type { TakenValues } from './composer';
import { decideDeprovisioning } from './deprovisioning';
import type { DeprovisioningReason } from './deprovisioning';
import { applyExportFlows } from './export-flows';
import { applyImportFlows } from './import-flows';
import { decideJoin } from './join';
import type { JoinCandidateLookup } from './join';
import { precedenceTable } from './precedence';
import type { PrecedenceEntry } from './precedence';
import { decideProjection } from './projection';
import { decideProvisioning } from './provisioning';
import type { TargetObjectRef } from './provisioning';
import type { ExportReferenceResolver, ImportReferenceResolver } from './references';
import { RuleSampleInvalidError } from './rule.errors';
import { evaluateScope } from './scoping';

/** What a preview evaluates a rule against; each kind reads what it needs. */
export interface RuleSample {
  /**
   * The connector-space object: the one read (scoping, join, projection,
   * import flows) or the target object written (export flows, deprovisioning).
   */
  cso?: ConnectorSpaceObjectView;
  /** The mesh object: read by composer, provisioning and export flows; updated by import flows (a new one when absent). */
  mesh?: MeshObjectView;
  /** Join: the candidates found per key. @default none */
  joinCandidates?: JoinCandidateLookup;
  /** Import flows: where references resolve to. @default none */
  importReferences?: ImportReferenceResolver;
  /** Export flows: how the target names referenced mesh objects. @default none */
  exportReferences?: ExportReferenceResolver;
  /** Import flows: precedence rows. @default none */
  precedence?: readonly PrecedenceEntry[];
  /** Composer: values already reserved. @default none */
  takenValues?: TakenValues;
  /** Provisioning: the objects the mesh object already has in target connectors. @default none */
  existingTargets?: readonly TargetObjectRef[];
  /** Export flows: preview the add of a new target object. @default false */
  adding?: boolean;
  /** Deprovisioning. @default 'out-of-scope' */
  reason?: DeprovisioningReason;
  /** Time stamped on previewed mesh values. @default the Unix epoch, so previews are reproducible */
  now?: string;
}

export type RuleSampleResult =
  | {
      ok: true;
      kind: SyncRuleKind;
      /** The decision in a word: in-scope, joined, project, changed, composed, provision, disable … */
      outcome: string;
      /** Values per attribute (or per field of the definition) the rule produced. */
      values: Record<string, ExpressionValue>;
      /** The full decision, for display. */
      detail: Record<string, unknown>;
    }
  | { ok: false; kind: SyncRuleKind; error: { code: DomainErrorCode; message: string; details: Record<string, unknown> } };

const CSO_KINDS: ReadonlySet<SyncRuleKind> = new Set(['scoping', 'join', 'projection', 'import-flow', 'export-flow', 'deprovisioning']);

function need<T>(kind: SyncRuleKind, value: T | undefined, what: string): T {
  if (value === undefined) throw new RuleSampleInvalidError(kind, what);
  return value;
}

type Preview = Omit<Extract<RuleSampleResult, { ok: true }>, 'ok' | 'kind'>;

function evaluate(kind: SyncRuleKind, definition: unknown, sample: RuleSample, schemas: RuleSchemas): Preview {
  const now = sample.now ?? new Date(0).toISOString();
  const cso = CSO_KINDS.has(kind) ? need(kind, sample.cso, 'connector-space object (cso)') : undefined;
  const mesh = kind === 'composer' || kind === 'provisioning' || kind === 'export-flow' ? need(kind, sample.mesh, 'mesh object (mesh)') : sample.mesh;
  const compile = <K extends SyncRuleKind>(k: K): CompiledRuleOf<K> =>
    compileSyncRule(
      {
        id: 'preview',
        kind: k,
        connectorId: cso?.connectorId ?? null,
        objectType: cso?.objectType ?? mesh?.objectType ?? '',
        ordinal: 0,
        definition,
      },
      schemas,
    );
  const k: SyncRuleKind = kind;
  switch (k) {
    case 'scoping': {
      const rule = compile('scoping');
      const decision = evaluateScope(need(k, cso, 'cso'), [rule]);
      return { outcome: decision.inScope ? 'in-scope' : 'out-of-scope', values: { condition: decision.inScope }, detail: { ...decision } };
    }
    case 'join': {
      const rule = compile('join');
      const subject = csoSubject(need(k, cso, 'cso'));
      const values: Record<string, ExpressionValue> = {};
      rule.mappings.forEach((m, i) => (values[`mappings[${i}].source`] = m.source.evaluate(subject)));
      const decision = decideJoin(need(k, cso, 'cso'), [rule], sample.joinCandidates ?? new Map());
      const detail = decision.kind === 'ambiguous' ? { kind: 'ambiguous', candidates: decision.error.candidates } : { ...decision };
      return { outcome: decision.kind, values, detail };
    }
    case 'projection': {
      const decision = decideProjection(need(k, cso, 'cso'), [compile('projection')]);
      const meshObjectType = decision.kind === 'project' ? decision.meshObjectType : null;
      return { outcome: decision.kind, values: { meshObjectType }, detail: { ...decision } };
    }
    case 'import-flow': {
      const rule = compile('import-flow');
      const source = need(k, cso, 'cso');
      const before: MeshObjectView = mesh ?? { id: '(new)', objectType: source.objectType, attributes: {} };
      const result = applyImportFlows(before, source, source.connectorId, [rule], precedenceTable(sample.precedence ?? []), {
        now,
        references: sample.importReferences,
      });
      const after = result.attributes[rule.target];
      const outcome = result.changes.length > 0 ? 'changed' : result.conflicts.length > 0 ? 'precedence-conflict' : 'unchanged';
      return {
        outcome,
        values: { [rule.target]: after?.value ?? null },
        detail: { changes: result.changes, conflicts: result.conflicts, unresolvedReferences: result.unresolvedReferences },
      };
    }
    case 'export-flow': {
      const rule = compile('export-flow');
      const result = applyExportFlows(need(k, mesh, 'mesh'), need(k, cso, 'cso'), [rule], sample.exportReferences ?? new Map(), {
        adding: sample.adding,
      });
      return {
        outcome: result.changes.length > 0 ? 'changes' : 'no-change',
        values: { ...result.desired },
        detail: { changes: result.changes, unresolvedReferences: result.unresolvedReferences },
      };
    }
    case 'composer': {
      const rule = compile('composer');
      const subject = need(k, mesh, 'mesh');
      const candidates = rule.unique ? uniqueCandidates(subject, rule, 10) : [];
      const result = composeValues(subject, [rule], sample.takenValues ?? new Map(), { now });
      const value = result.attributes[rule.target]?.value ?? null;
      return {
        outcome: result.changes.length > 0 ? 'composed' : value === null ? 'no-value' : 'unchanged',
        values: { [rule.target]: value },
        detail: { candidates, reservations: result.reservations, releases: result.releases },
      };
    }
    case 'provisioning': {
      const rule = compile('provisioning');
      const [decision] = decideProvisioning(need(k, mesh, 'mesh'), [rule], sample.existingTargets ?? []);
      if (!decision) return { outcome: 'none', values: {}, detail: {} };
      const values: Record<string, ExpressionValue> = {};
      if (decision.kind === 'provision') {
        values['dn'] = decision.dn ?? null;
        values['anchor'] = decision.anchor ?? null;
      }
      if (decision.kind === 'rename') values['dn'] = decision.newDn;
      return { outcome: decision.kind, values, detail: { ...decision } };
    }
    case 'deprovisioning': {
      const decision = decideDeprovisioning(need(k, cso, 'cso'), [compile('deprovisioning')], sample.reason ?? 'out-of-scope');
      const values: Record<string, ExpressionValue> = {};
      if (decision.kind === 'disable') for (const change of decision.changes) values[change.attribute] = change.values;
      return { outcome: decision.kind, values, detail: { ...decision } };
    }
    default:
      return assertUnreachable(k);
  }
}

/**
 * Evaluates one rule definition against a sample object, the way a sync run
 * would, and reports the outcome with the values per attribute — the basis
 * of the Admin API's rule preview. Writes nothing and never throws for a bad
 * rule or a failing object: those come back as `ok: false` with their coded
 * error (RULE_DEFINITION_INVALID, EXPRESSION_INVALID,
 * EXPRESSION_EVALUATION_FAILED, JOIN_AMBIGUOUS is an outcome, …).
 */
export function evaluateRuleSample(kind: SyncRuleKind, definition: unknown, sample: RuleSample, schemas: RuleSchemas): RuleSampleResult {
  try {
    return { ok: true, kind, ...evaluate(kind, definition, sample, schemas) };
  } catch (error) {
    if (error instanceof DomainError) return { ok: false, kind, error: { code: error.code, message: error.message, details: { ...error.details } } };
    throw error;
  }
}
