import { createHash, randomUUID } from 'node:crypto';
import {
  applyExportFlows,
  applyImportFlows,
  composeValues,
  csoReferenceKey,
  decideDeprovisioning,
  decideJoin,
  decideProjection,
  decideProvisioning,
  DomainError,
  evaluateScope,
  joinKeysFor,
  meshObjectFate,
  meshValues,
  normalizeUniqueValue,
  sameMeshAttribute,
  uniqueCandidates,
  uniqueValueKey,
} from '@identitymesh/domain';
import type {
  AttributeScalar,
  AttributeScalars,
  CompiledExportFlowRule,
  ConnectorSpaceObjectView as CsoView,
  DeprovisioningDecision,
  ExportAttributeChange,
  JoinKey,
  MeshAttribute,
  MeshObjectView,
  ProvisioningDecision,
  TargetObjectRef,
  UniqueValueReservation,
  UnresolvedReference,
} from '@identitymesh/domain';
import {
  AuditEventInput,
  AuditRepository,
  ConcurrentChangeError,
  ConnectorSpaceObjectView,
  ConnectorSpaceRepository,
  ExportChangeBody,
  ExportQueueRepository,
  isProvisionalAnchor,
  JsonObject,
  LinkUpdate,
  LoadedMeshObjects,
  MeshObjectRecord,
  MeshObjectUpdate,
  MeshRepository,
  NewExportItem,
  PROVISIONAL_ANCHOR_PREFIX,
  ProvisionedObject,
  ProvisionedObjectChange,
  ReferenceTarget,
  ReferenceTargetName,
  RunChangeInput,
  RunChangeRepository,
  RunObjectErrorInput,
  Transaction,
  UNIQUE_VALUE_LIMITS,
  UniqueValueRepository,
} from '@identitymesh/persistence';
import { dnHash, hashObject } from '../import/import-staging';
import { addItem, deleteItem, ExportTarget, provisionedAttributes, renameItem, updateItems } from './export-items';
import { exportAttributeChanges, meshAttributeChanges, meshAttributeValues } from './sync-report';
import type { SyncRules } from './sync-rules';
import { SyncObjectError } from './sync.errors';

/** What a run keeps across its batches. */
export interface SyncRunState {
  /**
   * Objects of the run's connector that a batch applied along with a mesh
   * object of theirs before their own page came (a connector with two
   * object types joined to one mesh object), by the version they were left
   * at: their page skips them, so the mesh object is not recomputed again.
   */
  appliedSiblings: Map<string, number>;
}

export interface SyncBatchContext {
  runId: string;
  connectorId: string;
  engineInstanceId: string;
  /** A dry run: everything is computed, only the change report is written. */
  preview: boolean;
  /** 1: the walk through the connector space; 2: objects whose references named objects joined later in the run. */
  pass: 1 | 2;
  /** A full sync (after a rule change): join keys of unchanged mesh objects are brought in line with the join rules too. */
  full: boolean;
  now: Date;
  rules: SyncRules;
  state: SyncRunState;
}

export interface SyncBatchRepositories {
  space: ConnectorSpaceRepository;
  mesh: MeshRepository;
  uniqueValues: UniqueValueRepository;
  exportQueue: ExportQueueRepository;
  audit: AuditRepository;
  runChanges: RunChangeRepository;
}

export interface SyncBatchCounters {
  joined: number;
  projected: number;
  updated: number;
  deleted: number;
  /** Objects provisioned into target connectors. */
  added: number;
  /** Export items queued. */
  exported: number;
}

export interface SyncBatchResult {
  counters: SyncBatchCounters;
  errors: RunObjectErrorInput[];
  /** Objects to evaluate again in the second pass: their references named objects not joined yet. */
  deferred: string[];
  /** Mesh objects recomputed (or deleted) by the batch. */
  recomputed: number;
  /** Objects of the run's connector applied with this batch's mesh objects outside their own page, for {@link SyncRunState.appliedSiblings} once the batch committed. */
  siblings: Array<[id: string, version: number]>;
}

type OwnAction = 'skip' | 'failed' | 'delete' | 'disconnect' | 'disconnector' | 'linked' | 'join' | 'project' | 'unlinked';

/** One object of the page and what the sync decided for it. */
interface OwnObject {
  cso: ConnectorSpaceObjectView;
  view: CsoView;
  action: OwnAction;
  /** Its link after the sync. */
  meshObjectId: string | null;
  ruleId?: string;
  isDisconnector: boolean;
  /** Keeps its pending import for the second pass. */
  deferred: boolean;
  /** References that stay unresolved, for its error. */
  unresolved: string[];
}

/** An object whose values flow into a mesh object in this batch. */
interface Contributor {
  cso: ConnectorSpaceObjectView;
  view: CsoView;
  own?: OwnObject;
  /** Another connector's object (or a sibling) whose pending import this batch takes in. */
  consume: boolean;
}

/** What happens to one object of a (target) connector joined to a mesh object. */
interface TargetPlan {
  kind: 'existing' | 'claim' | 'provision';
  cso: ConnectorSpaceObjectView;
  ruleId?: string;
  rename?: string;
  deprovision?: DeprovisioningDecision;
  unlink: boolean;
  items: ExportChangeBody[];
  provisioned?: ProvisionedObject;
  reprovisioned?: ProvisionedObjectChange;
}

/** One mesh object of the batch, recomputed once from everything joined to it. */
interface MeshWork {
  id: string;
  objectType: string;
  isNew: boolean;
  record?: MeshObjectRecord;
  /** Objects of the page that stay joined to it (or join it now). */
  own: OwnObject[];
  /** Objects of the page that leave it (deleted, out of scope). */
  departing: OwnObject[];
  /** Everything joined to it in the database before the batch. */
  linked: ConnectorSpaceObjectView[];
  /** Everything joined to it after the batch. */
  linkedNow: ConnectorSpaceObjectView[];
  contributors: Contributor[];
  failure?: { cso: ConnectorSpaceObjectView; error: unknown };
  fate: 'keep' | 'delete';
  /** After import flows, before composers. */
  imported: Record<string, MeshAttribute>;
  /** Final. */
  attributes: Record<string, MeshAttribute>;
  reservations: UniqueValueReservation[];
  releases: UniqueValueReservation[];
  targets: TargetPlan[];
  /** The attributes it was inserted with, while a reservation conflict may still change them. */
  inserted?: Record<string, MeshAttribute>;
}

/** Unique candidates looked up per rule and object before composing; a later one is caught by the reservation's key. */
const FIRST_UNIQUE_LOOKUP = 10;
/** Rounds of reservation conflicts (other engines taking the same values) before an object gives up for this run. */
const RESERVATION_ROUNDS = 4;

/**
 * One batch of a sync, inside the batch's transaction: the page's objects
 * through scoping, join or projection, then each affected mesh object
 * recomputed once from everything joined to it (import flows under
 * precedence, composers, provisioning and deprovisioning, export flows),
 * then everything written set-based. A handful of reads serve the whole
 * batch (join candidates, mesh objects, their joined objects, references,
 * unique values, names of provisioned objects), whatever its size.
 *
 * A failure of one object (a rule's expression, a join ambiguity, a name
 * clash) fails its mesh object as a whole: nothing of it is written and its
 * objects keep their pending imports; the rest of the batch goes on.
 */
export class SyncBatch {
  private readonly own = new Map<string, OwnObject>();
  private readonly works = new Map<string, MeshWork>();
  private readonly errors: RunObjectErrorInput[] = [];
  private readonly iso: string;
  private loaded: LoadedMeshObjects = { objects: new Map(), referenceTargets: new Map() };
  private readonly references = new Map<string, ReferenceTarget>();
  /** Links this batch changes: CSO id → its mesh object after the batch (null: unlinked). */
  private readonly batchLinks = new Map<string, string | null>();
  private readonly importReferences = new Map<string, string>();
  private readonly taken = new Map<string, string>();
  /** Unique values looked up: a free one among them is known to be free. */
  private readonly checked = new Set<string>();
  private readonly names = new Map<string, ReferenceTargetName[]>();
  private readonly resolvers = new Map<string, Map<string, string>>();
  private readonly siblings: Array<[string, number]> = [];

  constructor(
    private readonly tx: Transaction,
    private readonly repositories: SyncBatchRepositories,
    private readonly context: SyncBatchContext,
  ) {
    this.iso = context.now.toISOString();
  }

  async run(page: readonly ConnectorSpaceObjectView[]): Promise<SyncBatchResult> {
    this.classify(page);
    await this.joinOrProject();
    await this.loadMeshObjects();
    this.collectContributors();
    await this.loadReferences();
    this.applyImportFlows();
    await this.compose(this.alive(), FIRST_UNIQUE_LOOKUP);
    await this.decideTargets([...this.works.values()].filter((work) => !work.failure));
    await this.computeExports(this.alive());
    return this.context.preview ? this.report() : this.write();
  }

  // --- scoping, join, projection ---

  private classify(page: readonly ConnectorSpaceObjectView[]): void {
    const { rules, state, pass } = this.context;
    for (const cso of page) {
      const own: OwnObject = { cso, view: csoView(cso), action: 'unlinked', meshObjectId: cso.meshObjectId, isDisconnector: false, deferred: false, unresolved: [] };
      this.own.set(cso.id, own);
      if (pass === 1 && state.appliedSiblings.get(cso.id) === cso.version) {
        own.action = 'skip';
        continue;
      }
      if (cso.pendingImport === 'delete') {
        own.action = 'delete';
        this.leave(own);
        continue;
      }
      let inScope: boolean;
      try {
        inScope = evaluateScope(own.view, rules.scoping).inScope;
      } catch (error) {
        this.failOwn(own, error);
        continue;
      }
      if (!inScope) {
        own.isDisconnector = true;
        own.action = cso.meshObjectId ? 'disconnect' : 'disconnector';
        this.leave(own);
      } else if (cso.meshObjectId) {
        own.action = 'linked';
        this.work(cso.meshObjectId).own.push(own);
      }
    }
  }

  private leave(own: OwnObject): void {
    if (own.cso.meshObjectId) this.work(own.cso.meshObjectId).departing.push(own);
    own.meshObjectId = null;
    this.batchLinks.set(own.cso.id, null);
  }

  private async joinOrProject(): Promise<void> {
    const { rules } = this.context;
    const toJoin = [...this.own.values()].filter((own) => own.action === 'unlinked');
    const keys: JoinKey[] = [];
    for (const own of toJoin) {
      try {
        keys.push(...joinKeysFor(own.view, rules.join));
      } catch (error) {
        this.failOwn(own, error);
      }
    }
    const candidates = keys.length > 0 ? await this.repositories.mesh.findJoinCandidates(this.tx, keys) : new Map<string, string[]>();
    for (const own of toJoin) {
      if (own.action !== 'unlinked') continue;
      try {
        const join = decideJoin(own.view, rules.join, candidates);
        if (join.kind === 'ambiguous') {
          this.failOwn(own, join.error);
        } else if (join.kind === 'joined') {
          this.link(own, 'join', join.meshObjectId, join.ruleId);
        } else {
          const projection = decideProjection(own.view, rules.projection);
          if (projection.kind === 'project') {
            const id = this.newId('mesh', own.cso.id);
            this.works.set(id, newWork(id, projection.meshObjectType, true));
            this.link(own, 'project', id, projection.ruleId);
          }
        }
      } catch (error) {
        this.failOwn(own, error);
      }
    }
  }

  private link(own: OwnObject, action: 'join' | 'project', meshObjectId: string, ruleId: string): void {
    own.action = action;
    own.meshObjectId = meshObjectId;
    own.ruleId = ruleId;
    this.batchLinks.set(own.cso.id, meshObjectId);
    this.work(meshObjectId).own.push(own);
  }

  private async loadMeshObjects(): Promise<void> {
    const { space, mesh } = this.repositories;
    const existing = [...this.works.values()].filter((work) => !work.isNew).map((work) => work.id);
    if (existing.length > 0) {
      this.loaded = await mesh.loadObjects(this.tx, existing, { referenceNamesIn: this.context.rules.exportReferenceConnectors });
      for (const cso of await space.loadLinked(this.tx, existing)) if (cso.meshObjectId) this.works.get(cso.meshObjectId)?.linked.push(cso);
    }
    for (const work of this.works.values()) {
      if (work.isNew) continue;
      const record = this.loaded.objects.get(work.id);
      // Gone between the page's read and this one: another engine deleted it. Repeat the batch.
      if (!record) throw new ConcurrentChangeError('IM_MeshObjects', 1, 0);
      work.record = record;
      work.objectType = record.objectType;
    }
    // A mesh object has one object per connector and type; a second one joining it is an error, never a silent double link.
    for (const work of this.works.values()) {
      const departing = new Set(work.departing.map((own) => own.cso.id));
      const holders = new Map<string, string>();
      for (const cso of work.linked) if (!departing.has(cso.id)) holders.set(`${cso.connectorId}\u0000${cso.objectType}`, cso.id);
      work.own = work.own.filter((own) => {
        if (own.action !== 'join') return true;
        const key = `${own.cso.connectorId}\u0000${own.cso.objectType}`;
        const holder = holders.get(key);
        if (holder !== undefined && holder !== own.cso.id) {
          this.batchLinks.delete(own.cso.id);
          this.failOwn(own, new SyncObjectError('JOIN_TARGET_CONNECTED', `join rule ${own.ruleId} matched mesh object ${work.id}, which already has ${own.cso.objectType} ${holder} of this connector`));
          return false;
        }
        holders.set(key, own.cso.id);
        return true;
      });
      if (work.own.length === 0 && work.departing.length === 0) this.works.delete(work.id);
    }
  }

  // --- import flows ---

  private collectContributors(): void {
    const { rules } = this.context;
    for (const work of this.works.values()) {
      const departing = new Set(work.departing.map((own) => own.cso.id));
      const staying = new Set(work.own.map((own) => own.cso.id));
      work.linkedNow = [...work.linked.filter((cso) => !departing.has(cso.id) && !staying.has(cso.id)), ...work.own.map((own) => own.cso)];
      work.contributors = work.own.map((own) => ({ cso: own.cso, view: own.view, own, consume: false }));
      for (const cso of work.linked) {
        if (departing.has(cso.id) || staying.has(cso.id)) continue;
        // Objects of the page that failed stay joined with what they hold; their pending imports wait.
        if (this.own.get(cso.id)?.action === 'failed') continue;
        if (cso.pendingImport === 'delete' || cso.isDisconnector) continue;
        const view = csoView(cso);
        try {
          // Another connector's object that left its scope keeps what it holds until its own sync disconnects it.
          if (!evaluateScope(view, rules.scoping).inScope) continue;
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          // Its own connector's sync reports the failure; here it only contributes nothing new.
          continue;
        }
        work.contributors.push({ cso, view, consume: cso.pendingImport !== 'none' });
      }
      work.contributors.sort((a, b) => compare(a.cso.connectorId, b.cso.connectorId) || compare(a.cso.objectType, b.cso.objectType) || compare(a.cso.id, b.cso.id));
    }
  }

  /** The reference rows of every contributor with reference flows, and the resolver import flows read them through. */
  private async loadReferences(): Promise<void> {
    const { rules } = this.context;
    const withReferences = [...this.works.values()].flatMap((work) => work.contributors).filter((c) => rules.importReferenceFlows(c.cso.connectorId, c.cso.objectType).length > 0);
    if (withReferences.length === 0) return;
    for (const row of await this.repositories.space.loadReferenceTargets(this.tx, withReferences.map((c) => c.cso.id))) {
      this.references.set(referenceRowKey(row.csObjectId, row.attributeName, row.targetKey), row);
    }
    const elsewhere = new Map<string, { connectorId: string; objectType: string | null; by: 'dn' | 'anchor'; values: Set<string> }>();
    for (const contributor of withReferences) {
      for (const flow of rules.importReferenceFlows(contributor.cso.connectorId, contributor.cso.objectType)) {
        const { attribute, by } = flow.reference as NonNullable<typeof flow.reference>;
        const other = otherConnector(flow.reference, contributor.cso.connectorId);
        for (const raw of contributor.view.attributes[attribute] ?? []) {
          const text = String(raw);
          if (text === '') continue;
          if (other) {
            const key = `${other.connectorId}\u0000${other.objectType ?? ''}\u0000${by}`;
            const group = elsewhere.get(key) ?? { ...other, by, values: new Set<string>() };
            group.values.add(text);
            elsewhere.set(key, group);
            continue;
          }
          const target = this.referenceTarget(contributor.cso.id, attribute, by, text);
          if (target) this.importReferences.set(csoReferenceKey(contributor.cso.connectorId, by, text), target);
        }
      }
    }
    for (const group of elsewhere.values()) await this.loadReferencesElsewhere(group);
  }

  /**
   * References into another connector (a groups feed naming people of the HR
   * feed): its objects are looked up by the names the values give, one query
   * per chunk, not through IM_CsReferences, whose links stay within a
   * connector. A name that several objects of that connector carry (an anchor
   * under two object types) resolves to none of them: joining one would be a guess.
   */
  private async loadReferencesElsewhere(group: { connectorId: string; objectType: string | null; by: 'dn' | 'anchor'; values: Set<string> }): Promise<void> {
    const keyOf = (value: string) => (group.by === 'dn' ? dnHash(value) : value);
    const found = await this.repositories.space.findReferenced(this.tx, group.connectorId, group.objectType, group.by === 'dn' ? 'dnHash' : 'anchor', [...group.values].map(keyOf));
    const byKey = new Map<string, (typeof found)[number] | null>();
    for (const object of found) byKey.set(object.key, byKey.has(object.key) ? null : object);
    for (const value of group.values) {
      const object = byKey.get(keyOf(value));
      if (!object || object.isDisconnector) continue;
      const target = this.batchLinks.has(object.csObjectId) ? (this.batchLinks.get(object.csObjectId) ?? null) : object.meshObjectId;
      if (target) this.importReferences.set(csoReferenceKey(group.connectorId, group.by, value), target);
    }
  }

  /** The mesh object a reference value of an object resolves to after this batch's own link changes, if any. */
  private referenceTarget(csObjectId: string, attribute: string, by: 'dn' | 'anchor', value: string): string | null {
    const row = this.references.get(referenceRowKey(csObjectId, attribute, by === 'dn' ? dnHash(value) : value));
    if (!row?.targetCsObjectId) return null;
    return this.batchLinks.has(row.targetCsObjectId) ? (this.batchLinks.get(row.targetCsObjectId) ?? null) : row.targetMeshObjectId;
  }

  /** Whether an unresolved reference may resolve later in the run: its object is staged, in scope and not leaving. */
  private mayResolveLater(csObjectId: string, attribute: string, by: 'dn' | 'anchor', value: string): boolean {
    const row = this.references.get(referenceRowKey(csObjectId, attribute, by === 'dn' ? dnHash(value) : value));
    if (!row?.targetCsObjectId || row.targetIsDisconnector) return false;
    return !(this.batchLinks.has(row.targetCsObjectId) && this.batchLinks.get(row.targetCsObjectId) === null);
  }

  private applyImportFlows(): void {
    const { rules } = this.context;
    for (const work of this.works.values()) {
      if (work.failure) continue;
      let current: ConnectorSpaceObjectView | undefined;
      try {
        if (work.departing.length > 0) {
          const fate = meshObjectFate({ joinedConnectors: work.linkedNow.map((cso) => cso.connectorId), authoritative: rules.authoritative(work.objectType) });
          if (fate.fate === 'delete') {
            work.fate = 'delete';
            continue;
          }
        }
        let attributes = this.released(work);
        for (const contributor of work.contributors) {
          current = contributor.cso;
          const result = applyImportFlows({ id: work.id, objectType: work.objectType, attributes }, contributor.view, contributor.cso.connectorId, rules.importFlows, rules.precedence, {
            now: this.iso,
            references: this.importReferences,
          });
          attributes = result.attributes;
          if (result.unresolvedReferences.length > 0) this.unresolved(contributor, result.unresolvedReferences);
        }
        work.imported = attributes;
      } catch (error) {
        this.fail(work, current ?? firstObject(work), error);
      }
    }
  }

  /**
   * The stored attributes without what connectors hold that no longer flow
   * into them: a connector no longer joined (its object left), or one whose
   * import flow for the attribute is gone. The remaining sources' flows are
   * applied next, so the next source in precedence takes over.
   */
  private released(work: MeshWork): Record<string, MeshAttribute> {
    const { rules } = this.context;
    const attributes: Record<string, MeshAttribute> = {};
    for (const [name, attribute] of Object.entries(work.record?.attributes ?? {})) {
      if (attribute.connectorId === null) attributes[name] = attribute;
      else if (work.linkedNow.some((cso) => cso.connectorId === attribute.connectorId && rules.importTargets(cso.connectorId, cso.objectType).has(name))) attributes[name] = attribute;
    }
    return attributes;
  }

  private unresolved(contributor: Contributor, references: readonly UnresolvedReference[]): void {
    const { rules, pass, preview } = this.context;
    let later = false;
    const values: string[] = [];
    for (const reference of references) {
      const flow = rules.importFlows.find((rule) => rule.id === reference.ruleId);
      for (const value of reference.values) {
        values.push(`${reference.attribute}=${value}`);
        // Another connector's objects are joined by that connector's syncs, never later in this run.
        if (flow?.reference && !otherConnector(flow.reference, contributor.cso.connectorId) && this.mayResolveLater(contributor.cso.id, flow.reference.attribute, flow.reference.by, value)) later = true;
      }
    }
    if (!contributor.own) {
      // Left pending for its own connector's sync, which retries it.
      if (later) contributor.consume = false;
      return;
    }
    if (later && pass === 1 && !preview) contributor.own.deferred = true;
    // A preview cannot see objects the run would join later; only a reference that can never resolve is reported.
    else if (!(later && preview)) contributor.own.unresolved.push(...values);
  }

  // --- composers ---

  /**
   * Runs the composers of the mesh objects. Unique candidates are looked up
   * for the whole batch in one query, the first few per object; an object
   * whose free value lay beyond them (the eleventh John Doe) is composed
   * again after a second query for all its candidates, so the value it gets
   * is known to be free before provisioning names anything after it. Only
   * a race with another engine can still take it (see reserve).
   */
  private async compose(works: readonly MeshWork[], lookup: number): Promise<void> {
    const { rules, preview } = this.context;
    const values: Array<{ scope: string; value: string }> = [];
    for (const work of works) {
      for (const rule of rules.uniqueComposers(work.objectType)) {
        try {
          for (const candidate of uniqueCandidates(meshView(work, work.imported), rule, lookup)) {
            values.push({ scope: (rule.unique as NonNullable<typeof rule.unique>).scope, value: normalizeUniqueValue(candidate) });
          }
        } catch (error) {
          this.fail(work, firstObject(work), error);
        }
      }
    }
    if (values.length > 0) {
      for (const [key, holder] of await this.repositories.uniqueValues.findHolders(this.tx, values)) this.taken.set(key, holder);
      for (const value of values) this.checked.add(uniqueValueKey(value.scope, value.value));
    }
    const wider: MeshWork[] = [];
    for (const work of [...works].sort((a, b) => compare(a.id, b.id))) {
      if (work.failure) continue;
      try {
        const result = composeValues(meshView(work, work.imported), rules.composer, this.taken, { now: this.iso });
        const all = Math.max(FIRST_UNIQUE_LOOKUP, ...rules.uniqueComposers(work.objectType).map((rule) => rule.unique?.maxAttempts ?? 0));
        if (lookup < all && result.reservations.some((reservation) => !this.checked.has(uniqueValueKey(reservation.scope, reservation.value)))) {
          wider.push(work);
          continue;
        }
        for (const reservation of result.reservations) {
          if (reservation.scope.length > UNIQUE_VALUE_LIMITS.scopeLength || reservation.value.length > UNIQUE_VALUE_LIMITS.valueLength) {
            throw new SyncObjectError('UNIQUE_VALUE_TOO_LONG', `composer rule ${reservation.ruleId}: the value for scope ${reservation.scope} is longer than ${UNIQUE_VALUE_LIMITS.valueLength} characters`);
          }
        }
        for (const reservation of result.reservations) this.taken.set(uniqueValueKey(reservation.scope, reservation.value), work.id);
        work.attributes = result.attributes;
        // A preview reserves nothing; its values are what the lookups said was free.
        work.reservations = preview ? [] : result.reservations;
        work.releases = preview ? [] : result.releases;
      } catch (error) {
        this.fail(work, firstObject(work), error);
      }
    }
    if (wider.length > 0) await this.compose(wider, Math.max(...wider.flatMap((work) => rules.uniqueComposers(work.objectType).map((rule) => rule.unique?.maxAttempts ?? FIRST_UNIQUE_LOOKUP))));
  }

  // --- provisioning, deprovisioning ---

  private async decideTargets(works: readonly MeshWork[]): Promise<void> {
    const { rules } = this.context;
    const provisions: Array<{ work: MeshWork; decision: Extract<ProvisioningDecision, { kind: 'provision' }> }> = [];
    for (const work of works) {
      if (work.failure) continue;
      work.targets = [];
      try {
        if (work.fate === 'delete') {
          for (const cso of work.linkedNow) work.targets.push(this.deprovision(cso, decideDeprovisioning(csoView(cso), rules.deprovisioning, 'mesh-object-deleted')));
          continue;
        }
        const existing: TargetObjectRef[] = work.linkedNow.map((cso) => ({ connectorId: cso.connectorId, objectType: cso.objectType, csoId: cso.id, anchor: cso.anchor, dn: cso.distinguishedName }));
        const decided = new Set<string>();
        for (const decision of decideProvisioning(meshView(work, work.attributes), rules.provisioning, existing)) {
          if (decision.kind === 'provision') {
            provisions.push({ work, decision });
            continue;
          }
          const cso = work.linkedNow.find((candidate) => candidate.id === decision.target.csoId) as ConnectorSpaceObjectView;
          decided.add(cso.id);
          if (decision.kind === 'deprovision') work.targets.push(this.deprovision(cso, decideDeprovisioning(csoView(cso), rules.deprovisioning, 'out-of-scope')));
          else work.targets.push({ kind: 'existing', cso, ruleId: decision.ruleId, rename: decision.kind === 'rename' ? decision.newDn : undefined, unlink: false, items: [] });
        }
        for (const cso of work.linkedNow) if (!decided.has(cso.id)) work.targets.push({ kind: 'existing', cso, unlink: false, items: [] });
      } catch (error) {
        this.fail(work, firstObject(work), error);
      }
    }
    await this.placeProvisions(provisions);
  }

  /**
   * New objects in target connectors. A name (anchor or DN) the target's
   * connector space already has is an existing account: an unjoined one is
   * joined instead of provisioned twice (an account that existed before the
   * mesh object did), one joined to another mesh object is a per-object error.
   */
  private async placeProvisions(provisions: ReadonlyArray<{ work: MeshWork; decision: Extract<ProvisioningDecision, { kind: 'provision' }> }>): Promise<void> {
    const alive = provisions.filter((p) => !p.work.failure);
    if (alive.length === 0) return;
    const named = await this.repositories.space.findNamed(
      this.tx,
      alive.map(({ decision }) => ({ connectorId: decision.connectorId, objectType: decision.objectType, anchor: decision.anchor, dnHash: decision.dn ? dnHash(decision.dn) : undefined })),
    );
    const claimed = new Set<string>();
    const placed = new Set<string>();
    for (const { work, decision } of alive) {
      if (work.failure) continue;
      const hash = decision.dn ? dnHash(decision.dn) : undefined;
      const match = named.find(
        (cso) => cso.connectorId === decision.connectorId && ((decision.anchor !== undefined && cso.objectType === decision.objectType && cso.anchor === decision.anchor) || (hash !== undefined && cso.dnHash === hash)),
      );
      const describe = `${decision.objectType} ${decision.dn ?? decision.anchor} of connector ${decision.connectorId}`;
      if (match) {
        if (match.meshObjectId !== null || claimed.has(match.id)) {
          this.fail(work, firstObject(work), new SyncObjectError('PROVISION_TARGET_TAKEN', `provisioning rule ${decision.ruleId}: ${describe} exists already and belongs to another mesh object`));
          continue;
        }
        claimed.add(match.id);
        work.targets.push({ kind: 'claim', cso: match, ruleId: decision.ruleId, unlink: false, items: [] });
        continue;
      }
      const keys = [decision.anchor !== undefined ? `${decision.connectorId}\u0000${decision.objectType}\u0000${decision.anchor}` : undefined, hash !== undefined ? `${decision.connectorId}\u0000${hash}` : undefined].filter(
        (key): key is string => key !== undefined,
      );
      if (keys.some((key) => placed.has(key))) {
        this.fail(work, firstObject(work), new SyncObjectError('PROVISION_TARGET_TAKEN', `provisioning rule ${decision.ruleId}: another mesh object of the same batch gets ${describe}`));
        continue;
      }
      const id = this.newId('cso', `${work.id}\u0000${decision.connectorId}\u0000${decision.objectType}`);
      const anchor = decision.anchor ?? `${PROVISIONAL_ANCHOR_PREFIX}${id}`;
      const limits = this.repositories.space.limits();
      if (anchor.length > limits.anchorLength || (decision.dn?.length ?? 0) > limits.distinguishedNameLength) {
        this.fail(work, firstObject(work), new SyncObjectError('PROVISION_TARGET_TAKEN', `provisioning rule ${decision.ruleId}: the rendered anchor or DN of ${describe} is longer than the connector space holds`));
        continue;
      }
      for (const key of keys) placed.add(key);
      const cso: ConnectorSpaceObjectView = {
        id,
        connectorId: decision.connectorId,
        objectType: decision.objectType,
        anchor,
        distinguishedName: decision.dn ?? null,
        dnHash: hash ?? null,
        attributes: {},
        attributeHash: '',
        meshObjectId: work.id,
        isDisconnector: false,
        pendingImport: 'none',
        pendingExport: 'add',
        lastRunId: null,
        version: 1,
      };
      work.targets.push({ kind: 'provision', cso, ruleId: decision.ruleId, unlink: false, items: [] });
    }
  }

  /**
   * A target object leaving its mesh object. One whose add never went out
   * is deleted whatever the rule says: it exists (if at all) only because
   * the engine just created it, and a delete of an object the system never
   * got is reconciled as done.
   */
  private deprovision(cso: ConnectorSpaceObjectView, decision: DeprovisioningDecision): TargetPlan {
    const plan: TargetPlan = { kind: 'existing', cso, deprovision: decision, unlink: false, items: [] };
    const target = exportTarget(cso);
    if (cso.pendingExport === 'add') {
      plan.items = [deleteItem(target)];
      return plan;
    }
    switch (decision.kind) {
      case 'disconnect':
        plan.unlink = true;
        break;
      case 'disable':
        plan.items = updateItems(target, decision.changes);
        plan.unlink = decision.disconnect;
        break;
      case 'delete':
        plan.items = cso.pendingExport === 'delete' ? [] : [deleteItem(target)];
        break;
    }
    return plan;
  }

  // --- export flows ---

  private async computeExports(works: readonly MeshWork[]): Promise<void> {
    const { rules } = this.context;
    await this.loadReferenceNames(works);
    for (const work of works) {
      if (work.failure) continue;
      try {
        for (const plan of work.targets) {
          if (plan.deprovision) continue;
          const flows = rules.exportFlowsOf(plan.cso.connectorId, plan.cso.objectType);
          const adding = plan.kind === 'provision' || plan.cso.pendingExport === 'add';
          if (flows.length === 0 && plan.kind !== 'provision') {
            if (plan.rename) plan.items = [renameItem(exportTarget(plan.cso), plan.rename)];
            continue;
          }
          const { changes, desired, unresolved } = this.exportFlows(work, plan.cso, flows, adding);
          if (unresolved && this.deferExports(work, plan)) {
            plan.items = [];
            continue;
          }
          if (plan.kind === 'provision') {
            const attributes = provisionedAttributes(desired);
            plan.provisioned = {
              id: plan.cso.id,
              connectorId: plan.cso.connectorId,
              objectType: plan.cso.objectType,
              anchor: plan.cso.anchor,
              distinguishedName: plan.cso.distinguishedName,
              dnHash: plan.cso.dnHash,
              attributes,
              attributeHash: hashObject(plan.cso.distinguishedName, attributes),
              meshObjectId: work.id,
            };
            plan.items = [addItem(exportTarget(plan.cso), desired)];
          } else if (adding) {
            // Its add has not gone out: the add is queued again with the current name and values, when they changed.
            const dn = plan.rename ?? plan.cso.distinguishedName;
            const attributes = provisionedAttributes(desired);
            const attributeHash = hashObject(dn, attributes);
            if (attributeHash !== plan.cso.attributeHash) {
              plan.reprovisioned = { id: plan.cso.id, distinguishedName: dn, dnHash: dn ? dnHash(dn) : null, attributes, attributeHash };
              plan.items = [addItem({ ...exportTarget(plan.cso), dn }, desired)];
            }
          } else {
            const target = exportTarget(plan.cso);
            plan.items = [...(plan.rename ? [renameItem(target, plan.rename)] : []), ...updateItems(target, changes)];
          }
        }
      } catch (error) {
        this.fail(work, firstObject(work), error);
      }
    }
  }

  /**
   * Whether to hold back the exports of a target object whose references
   * name mesh objects with no object in its connector yet. When that
   * connector is the one this run syncs, its objects may still join them
   * later in the run (a group met before its members): exporting now would
   * remove those members from the group, and add them back at the next
   * sync. The mesh object is evaluated again in the second pass instead.
   * Otherwise the references really have no object there, and the export
   * goes out without them.
   */
  private deferExports(work: MeshWork, plan: TargetPlan): boolean {
    const { pass, connectorId } = this.context;
    if (pass !== 1 || plan.cso.connectorId !== connectorId || work.own.length === 0) return false;
    for (const own of work.own) own.deferred = true;
    return true;
  }

  /** Runs the export flows of one target object; reference flows naming objects by DN and by anchor read different resolvers. */
  private exportFlows(
    work: MeshWork,
    cso: ConnectorSpaceObjectView,
    flows: readonly CompiledExportFlowRule[],
    adding: boolean,
  ): { changes: ExportAttributeChange[]; desired: Record<string, AttributeScalar[]>; unresolved: boolean } {
    let unresolved = false;
    const changes: ExportAttributeChange[] = [];
    const desired: Record<string, AttributeScalar[]> = {};
    const mesh = meshView(work, work.attributes);
    const view = csoView(cso);
    for (const by of ['dn', 'anchor'] as const) {
      const group = flows.filter((flow) => (flow.reference?.by ?? 'dn') === by);
      if (group.length === 0) continue;
      const result = applyExportFlows(mesh, view, group, this.resolver(cso.connectorId, by), { adding });
      changes.push(...result.changes);
      Object.assign(desired, result.desired);
      if (result.unresolvedReferences.length > 0) unresolved = true;
    }
    return { changes, desired, unresolved };
  }

  /**
   * How target connectors name the mesh objects references link to: the
   * names loaded with the batch's mesh objects, the batch's own joined and
   * provisioned objects, and one more query for links this batch added to
   * objects outside it.
   */
  private async loadReferenceNames(works: readonly MeshWork[]): Promise<void> {
    const { rules } = this.context;
    this.resolvers.clear();
    if (rules.exportReferenceConnectors.length === 0) return;
    for (const [id, names] of this.loaded.referenceTargets) this.names.set(id, [...names]);
    const unlinked = new Set<string>();
    for (const work of this.works.values()) {
      if (work.failure) continue;
      for (const own of work.departing) unlinked.add(own.cso.id);
      const names: ReferenceTargetName[] = [];
      for (const plan of work.targets ?? []) {
        if (plan.unlink || work.fate === 'delete') continue;
        names.push({ csObjectId: plan.cso.id, connectorId: plan.cso.connectorId, objectType: plan.cso.objectType, anchor: plan.cso.anchor, distinguishedName: plan.cso.distinguishedName, pendingExport: plan.cso.pendingExport });
      }
      this.names.set(work.id, names);
    }
    const missing = new Set<string>();
    for (const work of works) {
      for (const plan of work.targets) {
        for (const flow of rules.exportFlowsOf(plan.cso.connectorId, plan.cso.objectType)) {
          if (!flow.reference) continue;
          for (const id of meshValues(work.attributes[flow.reference.attribute])) if (!this.names.has(String(id))) missing.add(String(id));
        }
      }
    }
    if (missing.size > 0) {
      for (const id of missing) this.names.set(id, []);
      for (const cso of await this.repositories.space.loadLinked(this.tx, [...missing], rules.exportReferenceConnectors)) {
        if (!cso.meshObjectId) continue;
        this.names.get(cso.meshObjectId)?.push({ csObjectId: cso.id, connectorId: cso.connectorId, objectType: cso.objectType, anchor: cso.anchor, distinguishedName: cso.distinguishedName, pendingExport: cso.pendingExport });
      }
    }
    for (const [id, names] of this.names) this.names.set(id, names.filter((name) => !unlinked.has(name.csObjectId)));
  }

  private resolver(connectorId: string, by: 'dn' | 'anchor'): Map<string, string> {
    const key = `${connectorId}\u0000${by}`;
    let resolver = this.resolvers.get(key);
    if (resolver) return resolver;
    resolver = new Map();
    for (const [meshObjectId, names] of this.names) {
      for (const name of names) {
        if (name.connectorId !== connectorId) continue;
        const value = by === 'dn' ? name.distinguishedName : isProvisionalAnchor(name.anchor) ? null : name.anchor;
        if (value) {
          resolver.set(meshObjectId, value);
          break;
        }
      }
    }
    this.resolvers.set(key, resolver);
    return resolver;
  }

  // --- writing ---

  private async write(): Promise<SyncBatchResult> {
    const { space, mesh, uniqueValues, exportQueue, audit } = this.repositories;
    const { rules, now, connectorId } = this.context;
    const options = { joinAttributes: rules.joinAttributes, now };
    const counters: SyncBatchCounters = { joined: 0, projected: 0, updated: 0, deleted: 0, added: 0, exported: 0 };

    this.dropLinksToFailedProjections();
    // New mesh objects first: reservations, links and provisioned objects point to them.
    const fresh = this.alive().filter((work) => work.isNew);
    await mesh.insertObjects(
      this.tx,
      fresh.map((work) => ({ id: work.id, objectType: work.objectType, attributes: work.attributes })),
      options,
    );
    for (const work of fresh) work.inserted = work.attributes;
    await uniqueValues.release(
      this.tx,
      this.alive().flatMap((work) => work.releases),
    );
    await this.reserve();

    const updates: MeshObjectUpdate[] = [];
    for (const work of this.alive()) {
      const before = work.inserted ?? work.record?.attributes ?? {};
      const touched = work.targets.some((plan) => plan.kind !== 'existing' || plan.unlink || plan.deprovision !== undefined);
      if (work.isNew && work.inserted === work.attributes) continue;
      // A provisioning decision bumps the version even without a new value, so two engines cannot both provision one mesh object.
      if (!changedAttributes(before, work.attributes) && !(touched && !work.isNew)) continue;
      updates.push({ id: work.id, objectType: work.objectType, version: work.isNew ? 1 : (work.record as MeshObjectRecord).version, before, after: work.attributes });
    }
    await mesh.updateObjects(this.tx, updates, options);
    if (this.context.full) {
      const updated = new Set(updates.map((update) => update.id));
      await mesh.refreshJoinKeys(
        this.tx,
        this.alive()
          .filter((work) => !work.isNew && !updated.has(work.id))
          .map((work) => ({ id: work.id, objectType: work.objectType, attributes: work.attributes })),
        options,
      );
    }

    const links: LinkUpdate[] = [];
    const removed: string[] = [];
    for (const own of this.own.values()) {
      const work = own.cso.meshObjectId ? this.works.get(own.cso.meshObjectId) : undefined;
      const joinedWork = own.meshObjectId ? this.works.get(own.meshObjectId) : undefined;
      if (own.action === 'failed' || own.action === 'skip' || work?.failure || joinedWork?.failure) continue;
      if (own.action === 'delete') {
        removed.push(own.cso.id);
        continue;
      }
      const meshObjectId = joinedWork?.fate === 'delete' ? null : own.meshObjectId;
      const pendingImport = own.deferred ? own.cso.pendingImport : 'none';
      if (meshObjectId === own.cso.meshObjectId && own.isDisconnector === own.cso.isDisconnector && pendingImport === own.cso.pendingImport) continue;
      links.push({ id: own.cso.id, version: own.cso.version, meshObjectId, isDisconnector: own.isDisconnector, pendingImport });
      if (own.action === 'join') counters.joined++;
    }
    await space.updateLinks(this.tx, links, now);

    const synced: Array<{ id: string; version: number }> = [];
    for (const work of this.alive()) {
      for (const contributor of work.contributors) {
        if (contributor.own) continue;
        if (contributor.consume) synced.push({ id: contributor.cso.id, version: contributor.cso.version });
        if (contributor.cso.connectorId === connectorId) this.siblings.push([contributor.cso.id, contributor.cso.version + (contributor.consume ? 1 : 0)]);
      }
    }
    await space.markSynced(this.tx, synced, now);
    await space.removeObjects(this.tx, removed);

    const plans = [...this.alive(), ...this.deleted()].flatMap((work) => work.targets.map((plan) => ({ work, plan })));
    const provisioned = plans.filter(({ plan }) => plan.provisioned).map(({ plan }) => plan.provisioned as ProvisionedObject);
    await space.insertProvisioned(this.tx, provisioned, now);
    counters.added = provisioned.length;
    await space.updateProvisioned(
      this.tx,
      plans.filter(({ plan }) => plan.reprovisioned).map(({ plan }) => plan.reprovisioned as ProvisionedObjectChange),
      now,
    );
    await space.linkUnjoined(
      this.tx,
      plans.filter(({ plan }) => plan.kind === 'claim').map(({ work, plan }) => ({ id: plan.cso.id, meshObjectId: work.id })),
      now,
    );
    await space.unlink(
      this.tx,
      plans.filter(({ plan }) => plan.unlink && !this.own.has(plan.cso.id)).map(({ work, plan }) => ({ id: plan.cso.id, meshObjectId: work.id })),
      now,
    );
    const items: NewExportItem[] = plans.flatMap(({ plan }) =>
      plan.items.map((change) => ({ connectorId: plan.cso.connectorId, csObjectId: plan.cso.id, operation: change.kind, change, runId: this.context.runId })),
    );
    await exportQueue.enqueue(this.tx, items, { now });
    counters.exported = items.length;

    const deletes = this.deleted().map((work) => ({ id: work.id, version: (work.record as MeshObjectRecord).version }));
    counters.deleted = deletes.length;
    // New mesh objects whose composing failed after they were inserted (values other engines kept taking) go again, unchanged since.
    for (const work of this.works.values()) if (work.failure && work.inserted) deletes.push({ id: work.id, version: 1 });
    await mesh.deleteObjects(this.tx, deletes);

    const events = this.auditEvents();
    await audit.record(this.tx, events);
    for (const work of this.alive()) {
      if (work.isNew) counters.projected++;
      else if (changedValues(work.record?.attributes ?? {}, work.attributes)) counters.updated++;
    }
    return this.result(counters);
  }

  /**
   * Reserves the batch's new unique values. A value another engine took
   * since the lookup comes back as a conflict: the object's composers run
   * again with all their candidates looked up, and so do its provisioning
   * and export flows, which may read the value.
   */
  private async reserve(): Promise<void> {
    const { uniqueValues } = this.repositories;
    const { rules, now } = this.context;
    let pending = this.alive().flatMap((work) => work.reservations);
    for (let round = 1; pending.length > 0; round++) {
      const conflicts = await uniqueValues.reserve(this.tx, pending, now);
      if (conflicts.length === 0) return;
      for (const conflict of conflicts) this.taken.set(uniqueValueKey(conflict.reservation.scope, conflict.reservation.value), conflict.holder ?? '(another mesh object)');
      const works = [...new Set(conflicts.map((conflict) => conflict.reservation.meshObjectId))].map((id) => this.works.get(id)).filter((work): work is MeshWork => work !== undefined && !work.failure);
      if (round >= RESERVATION_ROUNDS) {
        for (const work of works) this.fail(work, firstObject(work), new SyncObjectError('UNIQUE_VALUE_CONTENDED', `the unique values composed for mesh object ${work.id} were taken by other mesh objects ${round} times in a row; it is composed again in the next run`));
        return;
      }
      const lookup = Math.max(FIRST_UNIQUE_LOOKUP, ...works.flatMap((work) => rules.uniqueComposers(work.objectType).map((rule) => rule.unique?.maxAttempts ?? FIRST_UNIQUE_LOOKUP)));
      await this.compose(works, lookup);
      await this.decideTargets(works);
      await this.computeExports(works);
      pending = works.filter((work) => !work.failure).flatMap((work) => work.reservations);
    }
  }

  private auditEvents(): AuditEventInput[] {
    const { engineInstanceId, runId, now } = this.context;
    const events: AuditEventInput[] = [];
    const base = { actorType: 'engine' as const, actor: engineInstanceId, targetType: 'mesh-object', runId, at: now };
    for (const work of this.alive()) {
      const before = work.record?.attributes ?? {};
      const ruleIds = rulesOf(work, before);
      if (work.isNew) {
        events.push({ ...base, action: 'mesh.create', targetId: work.id, ruleId: ruleIds[0] ?? null, before: null, after: { objectType: work.objectType, attributes: meshAttributeValues(work.attributes), ruleIds } });
        continue;
      }
      const changes = meshAttributeChanges(before, work.attributes);
      if (Object.keys(changes).length === 0) continue;
      const beforeValues: JsonObject = {};
      const afterValues: JsonObject = {};
      for (const [name, change] of Object.entries(changes)) {
        beforeValues[name] = change.before;
        afterValues[name] = change.after;
      }
      events.push({ ...base, action: 'mesh.update', targetId: work.id, ruleId: ruleIds[0] ?? null, before: { objectType: work.objectType, attributes: beforeValues }, after: { objectType: work.objectType, attributes: afterValues, ruleIds } });
    }
    for (const work of this.deleted()) {
      const departed = work.departing.map((own) => ({ connectorId: own.cso.connectorId, objectType: own.cso.objectType, anchor: own.cso.anchor, reason: own.action === 'delete' ? 'deleted' : 'out of scope' }));
      events.push({
        ...base,
        action: 'mesh.delete',
        targetId: work.id,
        ruleId: null,
        before: { objectType: work.objectType, attributes: meshAttributeValues(work.record?.attributes ?? {}) },
        after: { reason: 'last-authoritative-source-gone', departed },
      });
    }
    return events;
  }

  // --- preview ---

  private async report(): Promise<SyncBatchResult> {
    const lines: RunChangeInput[] = [];
    for (const own of this.own.values()) {
      const work = own.cso.meshObjectId ? this.works.get(own.cso.meshObjectId) : undefined;
      const joinedWork = own.meshObjectId ? this.works.get(own.meshObjectId) : undefined;
      if (own.action === 'failed' || own.action === 'skip' || work?.failure || joinedWork?.failure) continue;
      const objectRef = csoRef(own.cso);
      const link = { meshObjectId: { before: own.cso.meshObjectId, after: own.meshObjectId } };
      if (own.action === 'join' || own.action === 'project' || own.action === 'disconnect') lines.push({ objectRef, targetKind: 'connector-space', changeType: own.action, attributes: link });
      else if (own.action === 'delete') lines.push({ objectRef, targetKind: 'connector-space', changeType: 'remove', attributes: link });
      else if (own.action === 'disconnector' && !own.cso.isDisconnector) lines.push({ objectRef, targetKind: 'connector-space', changeType: 'disconnector', attributes: {} });
    }
    for (const work of this.alive()) {
      const before = work.record?.attributes ?? {};
      const changes = meshAttributeChanges(before, work.attributes);
      if (work.isNew) lines.push({ objectRef: work.id, targetKind: 'mesh', changeType: 'create', attributes: changes });
      else if (Object.keys(changes).length > 0) lines.push({ objectRef: work.id, targetKind: 'mesh', changeType: 'update', attributes: changes });
    }
    for (const work of this.deleted()) lines.push({ objectRef: work.id, targetKind: 'mesh', changeType: 'delete', attributes: meshAttributeChanges(work.record?.attributes ?? {}, {}) });
    for (const work of [...this.alive(), ...this.deleted()]) {
      for (const plan of work.targets) {
        const objectRef = csoRef(plan.cso);
        if (plan.kind === 'provision') lines.push({ objectRef, targetKind: 'connector-space', changeType: 'provision', attributes: { meshObjectId: { before: null, after: work.id } }, discriminator: plan.cso.connectorId });
        if (plan.kind === 'claim') lines.push({ objectRef, targetKind: 'connector-space', changeType: 'join', attributes: { meshObjectId: { before: null, after: work.id } }, discriminator: plan.cso.connectorId });
        if (plan.unlink) lines.push({ objectRef, targetKind: 'connector-space', changeType: 'disconnect', attributes: { meshObjectId: { before: work.id, after: null } }, discriminator: plan.cso.connectorId });
        plan.items.forEach((item, index) => {
          lines.push({ objectRef, targetKind: 'export', changeType: item.kind, attributes: exportAttributeChanges(item, csoView(plan.cso).attributes), discriminator: `${plan.cso.connectorId}#${index}` });
        });
      }
    }
    const added = await this.repositories.runChanges.append(this.tx, this.context.runId, lines);
    const count = (kind: string) => added.get(kind) ?? 0;
    const counters: SyncBatchCounters = {
      joined: count('connector-space:join'),
      projected: count('mesh:create'),
      updated: count('mesh:update'),
      deleted: count('mesh:delete'),
      added: count('connector-space:provision'),
      exported: count('export:add') + count('export:update') + count('export:delete') + count('export:rename'),
    };
    return this.result(counters);
  }

  // --- bookkeeping ---

  private result(counters: SyncBatchCounters): SyncBatchResult {
    for (const own of this.own.values()) {
      if (own.unresolved.length === 0 || own.action === 'failed') continue;
      const work = own.meshObjectId ? this.works.get(own.meshObjectId) : undefined;
      if (work?.failure) continue;
      const shown = own.unresolved.slice(0, 10).join(', ');
      this.errors.push({
        code: 'REFERENCE_UNRESOLVED',
        message: `${own.cso.objectType} '${own.cso.anchor}': ${own.unresolved.length} reference(s) name objects that are not joined to a mesh object: ${shown}${own.unresolved.length > 10 ? ', …' : ''}; they are left out until those objects are joined`,
        objectType: own.cso.objectType,
        anchor: own.cso.anchor,
        position: 'sync',
        csObjectId: own.cso.id,
      });
    }
    const deferred = [...this.own.values()].filter((own) => own.deferred && own.action !== 'failed' && !(own.meshObjectId && this.works.get(own.meshObjectId)?.failure)).map((own) => own.cso.id);
    return { counters, errors: this.errors, deferred, recomputed: this.alive().length + this.deleted().length, siblings: this.siblings };
  }

  /** A reference resolved to a mesh object this batch meant to project but could not: it is left out until that object exists. */
  private dropLinksToFailedProjections(): void {
    const gone = new Set([...this.works.values()].filter((work) => work.failure && work.isNew).map((work) => work.id));
    if (gone.size === 0) return;
    for (const work of this.alive()) {
      for (const [name, attribute] of Object.entries(work.attributes)) {
        if (!attribute.reference || !meshValues(attribute).some((id) => gone.has(String(id)))) continue;
        const kept = meshValues(attribute).filter((id) => !gone.has(String(id)));
        work.attributes = { ...work.attributes, [name]: { ...attribute, value: Array.isArray(attribute.value) ? (kept.length > 0 ? kept : null) : (kept[0] ?? null) } };
      }
    }
  }

  private alive(): MeshWork[] {
    return [...this.works.values()].filter((work) => !work.failure && work.fate === 'keep');
  }

  private deleted(): MeshWork[] {
    return [...this.works.values()].filter((work) => !work.failure && work.fate === 'delete');
  }

  private work(id: string): MeshWork {
    let work = this.works.get(id);
    if (!work) this.works.set(id, (work = newWork(id, '', false)));
    return work;
  }

  /** Ids of objects the batch creates; a preview's are derived from the run, so a resumed preview reports the same ones. */
  private newId(kind: string, seed: string): string {
    if (!this.context.preview) return randomUUID();
    const hex = createHash('sha256').update(`${this.context.runId}\u0000${kind}\u0000${seed}`).digest('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  }

  private failOwn(own: OwnObject, error: unknown): void {
    own.action = 'failed';
    own.deferred = false;
    this.errors.push(objectError(own.cso, error));
  }

  private fail(work: MeshWork, cso: ConnectorSpaceObjectView, error: unknown): void {
    if (work.failure) return;
    work.failure = { cso, error };
    this.errors.push(objectError(cso, error));
    for (const own of [...work.own, ...work.departing]) own.deferred = false;
  }
}

function newWork(id: string, objectType: string, isNew: boolean): MeshWork {
  return { id, objectType, isNew, own: [], departing: [], linked: [], linkedNow: [], contributors: [], fate: 'keep', imported: {}, attributes: {}, reservations: [], releases: [], targets: [] };
}

function csoView(cso: ConnectorSpaceObjectView): CsoView {
  return { id: cso.id, connectorId: cso.connectorId, objectType: cso.objectType, anchor: cso.anchor, dn: cso.distinguishedName, attributes: cso.attributes as Record<string, AttributeScalars> };
}

function meshView(work: MeshWork, attributes: Record<string, MeshAttribute>): MeshObjectView {
  return { id: work.id, objectType: work.objectType, attributes };
}

function exportTarget(cso: ConnectorSpaceObjectView): ExportTarget {
  return { objectType: cso.objectType, anchor: cso.anchor, dn: cso.distinguishedName };
}

function csoRef(cso: ConnectorSpaceObjectView): string {
  return cso.distinguishedName ?? `${cso.objectType} ${cso.anchor}`;
}

function firstObject(work: MeshWork): ConnectorSpaceObjectView {
  return (work.own[0] ?? work.departing[0]).cso;
}

function referenceRowKey(csObjectId: string, attributeName: string, targetKey: string): string {
  return `${csObjectId}\u0000${attributeName}\u0000${targetKey}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Any attribute with another value or holder: the row is written. */
function changedAttributes(before: Readonly<Record<string, MeshAttribute | undefined>>, after: Readonly<Record<string, MeshAttribute | undefined>>): boolean {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const name of names) if (!sameMeshAttribute(before[name], after[name])) return true;
  return false;
}

/** Any attribute with another value: the mesh object counts as updated and is audited. */
function changedValues(before: Readonly<Record<string, MeshAttribute | undefined>>, after: Readonly<Record<string, MeshAttribute | undefined>>): boolean {
  return Object.keys(meshAttributeChanges(before, after)).length > 0;
}

/** The rules behind a mesh object's change: join or projection of its objects, then the rules that wrote changed values. */
function rulesOf(work: MeshWork, before: Readonly<Record<string, MeshAttribute | undefined>>): string[] {
  const ids = new Set<string>();
  for (const own of work.own) if (own.ruleId && (own.action === 'join' || own.action === 'project')) ids.add(own.ruleId);
  for (const name of new Set([...Object.keys(before), ...Object.keys(work.attributes)])) {
    const after = work.attributes[name];
    if (sameMeshAttribute(before[name], after)) continue;
    const ruleId = after?.ruleId ?? before[name]?.ruleId;
    if (ruleId) ids.add(ruleId);
  }
  return [...ids];
}

function objectError(cso: ConnectorSpaceObjectView, error: unknown): RunObjectErrorInput {
  if (!(error instanceof DomainError) && !(error instanceof SyncObjectError)) throw error;
  return {
    code: error.code,
    message: `${cso.objectType} '${cso.anchor}' of connector ${cso.connectorId}: ${error.message}`,
    objectType: cso.objectType,
    anchor: cso.anchor,
    position: 'sync',
    csObjectId: cso.id,
  };
}

/** The connector and object type a reference flow names when they are not the flow's own connector's. */
function otherConnector(reference: { connectorId?: string; objectType?: string } | undefined, own: string): { connectorId: string; objectType: string | null } | undefined {
  if (!reference?.connectorId || reference.connectorId === own) return undefined;
  return { connectorId: reference.connectorId, objectType: reference.objectType ?? null };
}
