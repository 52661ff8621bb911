import { compileSyncRule, meshAttributeDeclarations, validateRuleDefinition } from '@identitymesh/domain';
import type { AttributeDeclaration, CompiledSyncRule, SyncRuleKind } from '@identitymesh/domain';
import type { CsvConnectorConfigJson, DeltaChanges, Group, Person, Population } from '@identitymesh/identity-generator';
import type { RuleRow } from './engine-database';
import { dnKey, dnKeyOf, DirectoryEntry, LoggedOperation } from './ldap-directory';

/**
 * The HR → directory configuration of the end-to-end proof against OpenLDAP
 * (two CSV connectors of the identity generator's feed, one LDAP connector,
 * and the rules between them), and the oracle: what slapd must hold for a
 * generated population, and which writes a delta must cause — computed from
 * the generator's data alone, never from the engine's tables.
 */

/** The secret reference the LDAP connector binds with; the value is stored with secretscli, never in the config. */
export const BIND_PASSWORD_SECRET = 'ldap/e2e/bind-password';

/** Where the test's directory objects live: its own subtree, so reruns and parallel tests never collide. */
export interface DirectoryLayout {
  people: string;
  groups: string;
}

export interface HrDirectoryConnectors {
  people: string;
  groups: string;
  ldap: string;
}

/** The unique account name (exported as uid): one candidate, a counter when taken, at most this long. */
const ACCOUNT_NAME_MAX_LENGTH = 20;

/**
 * LDAP person attributes and the mesh attributes they are exported from.
 * The directory's schema makes most of them multi-valued; the connector
 * config declares them single-valued, so an export replaces a changed value
 * in one modification instead of removing the old one and adding the new.
 */
const PERSON_EXPORTS: ReadonlyArray<readonly [ldap: string, mesh: string]> = [
  ['employeeNumber', 'employeeId'],
  ['uid', 'accountName'],
  ['cn', 'displayName'],
  ['displayName', 'displayName'],
  ['sn', 'sn'],
  ['givenName', 'givenName'],
  ['title', 'title'],
  ['departmentNumber', 'department'],
  ['l', 'location'],
  ['mobile', 'mobile'],
  ['employeeType', 'employmentStatus'],
];

/** HR people attributes that flow into the mesh person as they are. */
const PERSON_IMPORTS = ['employeeId', 'givenName', 'sn', 'preferredName', 'department', 'title', 'location', 'mobile', 'employmentStatus'];

export function ldapConnectorConfig(url: string, bindDn: string, layout: DirectoryLayout): object {
  return {
    flavor: 'openldap',
    url,
    bindDn,
    bindPasswordSecret: BIND_PASSWORD_SECRET,
    objectTypes: [
      {
        name: 'person',
        baseDns: [layout.people],
        scope: 'one',
        filter: '(objectClass=inetOrgPerson)',
        objectClasses: ['inetOrgPerson'],
        attributes: [...PERSON_EXPORTS.map(([name]) => ({ name, multiValued: false })), { name: 'manager', type: 'reference', multiValued: false }],
        referenceAttributes: ['manager'],
      },
      {
        name: 'group',
        baseDns: [layout.groups],
        scope: 'one',
        filter: '(objectClass=groupOfNames)',
        objectClasses: ['groupOfNames'],
        attributes: [
          { name: 'cn', multiValued: false },
          { name: 'businessCategory', multiValued: false },
        ],
        referenceAttributes: ['member'],
      },
    ],
  };
}

/** The DN templates; the oracle builds the same names from the generator's data. */
const personDnTemplate = (layout: DirectoryLayout) => `employeeNumber={{employeeId}},${layout.people}`;
const groupDnTemplate = (layout: DirectoryLayout) => `cn={{name}},${layout.groups}`;

/**
 * The rules, as rows of IM_SyncRules:
 *
 * - HR people project mesh persons, joined by employeeId; their attributes
 *   flow in; `manager` is a reference by anchor (an employee id of the same
 *   feed). Composers make displayName (the preferred name when there is one)
 *   and a unique account name, kept when the surname changes.
 * - HR groups project mesh groups, joined by groupId; `members` is a
 *   reference by anchor into the *people* connector (employee ids of the
 *   other feed). Nested groups (`memberGroups`) are not synced: groupOfNames
 *   has one `member` attribute, and an export flow carries one mesh
 *   reference attribute, so people and groups cannot share it.
 * - Every mesh person is provisioned into the directory as an inetOrgPerson
 *   named by its employee id, every mesh group with at least one member as
 *   a groupOfNames named by its name: an empty groupOfNames is a schema
 *   violation, so a group that becomes empty is deprovisioned (deleted)
 *   and provisioned again when it gains a member.
 * - Deprovisioning deletes people who left and groups that went away.
 */
export function hrDirectoryRules(connectors: HrDirectoryConnectors, layout: DirectoryLayout): RuleRow[] {
  const { people, groups, ldap } = connectors;
  const rules: RuleRow[] = [
    { kind: 'join', connectorId: people, objectType: 'person', definition: { meshObjectType: 'person', mappings: [{ source: 'employeeId', meshAttribute: 'employeeId' }] } },
    { kind: 'projection', connectorId: people, objectType: 'person', definition: { meshObjectType: 'person' } },
    ...PERSON_IMPORTS.map((name, i): RuleRow => ({ kind: 'import-flow', connectorId: people, objectType: 'person', ordinal: i + 1, definition: { target: name, source: name } })),
    { kind: 'import-flow', connectorId: people, objectType: 'person', ordinal: 20, definition: { target: 'manager', reference: { attribute: 'manager', by: 'anchor' } } },
    { kind: 'composer', connectorId: null, objectType: 'person', ordinal: 1, definition: { target: 'displayName', candidates: ['concat(coalesce(preferredName, givenName), " ", sn)'] } },
    {
      kind: 'composer',
      connectorId: null,
      objectType: 'person',
      ordinal: 2,
      definition: {
        target: 'accountName',
        candidates: ['lower(left(alphanumeric(normalize(givenName)), 1) + alphanumeric(normalize(sn)))'],
        unique: { scope: 'accountName', maxLength: ACCOUNT_NAME_MAX_LENGTH },
      },
    },

    { kind: 'join', connectorId: groups, objectType: 'group', definition: { meshObjectType: 'group', mappings: [{ source: 'groupId', meshAttribute: 'groupId' }] } },
    { kind: 'projection', connectorId: groups, objectType: 'group', definition: { meshObjectType: 'group' } },
    ...['groupId', 'name', 'kind'].map((name, i): RuleRow => ({ kind: 'import-flow', connectorId: groups, objectType: 'group', ordinal: i + 1, definition: { target: name, source: name } })),
    { kind: 'import-flow', connectorId: groups, objectType: 'group', ordinal: 10, definition: { target: 'members', reference: { attribute: 'members', by: 'anchor', connectorId: people } } },

    { kind: 'provisioning', connectorId: ldap, objectType: 'person', definition: { targetConnectorId: ldap, targetObjectType: 'person', dnTemplate: personDnTemplate(layout) } },
    {
      kind: 'provisioning',
      connectorId: ldap,
      objectType: 'group',
      definition: { targetConnectorId: ldap, targetObjectType: 'group', condition: 'size(members) > 0', dnTemplate: groupDnTemplate(layout) },
    },
    ...PERSON_EXPORTS.map(([target, source], i): RuleRow => ({ kind: 'export-flow', connectorId: ldap, objectType: 'person', ordinal: i + 1, definition: { target, source } })),
    { kind: 'export-flow', connectorId: ldap, objectType: 'person', ordinal: 20, definition: { target: 'manager', reference: { attribute: 'manager', by: 'dn' } } },
    { kind: 'export-flow', connectorId: ldap, objectType: 'group', ordinal: 1, definition: { target: 'cn', source: 'name' } },
    { kind: 'export-flow', connectorId: ldap, objectType: 'group', ordinal: 2, definition: { target: 'businessCategory', source: 'kind' } },
    { kind: 'export-flow', connectorId: ldap, objectType: 'group', ordinal: 3, definition: { target: 'member', reference: { attribute: 'members', by: 'dn' } } },
    { kind: 'deprovisioning', connectorId: ldap, objectType: 'person', definition: { action: 'delete' } },
    { kind: 'deprovisioning', connectorId: ldap, objectType: 'group', definition: { action: 'delete' } },
  ];
  return rules;
}

/** The attributes a CSV connector declares, as rules see them. */
function csvDeclarations(config: CsvConnectorConfigJson): AttributeDeclaration[] {
  return config.columns.map((column) => ({ name: column.attribute, multiValued: column.separator !== undefined, reference: column.type === 'reference' }));
}

/** The attributes of an LDAP object type as the config above declares them (the rules need no more of the server's schema). */
function ldapDeclarations(objectType: 'person' | 'group'): AttributeDeclaration[] {
  if (objectType === 'person') return [{ name: 'entryUUID' }, ...PERSON_EXPORTS.map(([name]) => ({ name })), { name: 'manager', reference: true }];
  return [{ name: 'entryUUID' }, { name: 'cn' }, { name: 'businessCategory' }, { name: 'member', multiValued: true, reference: true }];
}

/**
 * Checks every rule the way the Admin API does before it saves one
 * (validateRuleDefinition): import flows against the connectors' attributes
 * first, then everything that reads the mesh against what those flows and
 * the composers produce. Throws the first rule's coded error, naming it.
 */
export function validateHrDirectoryRules(rules: readonly RuleRow[], connectors: HrDirectoryConnectors, configs: { people: CsvConnectorConfigJson; groups: CsvConnectorConfigJson }): void {
  const connectorSpace = (rule: RuleRow): AttributeDeclaration[] => {
    if (rule.connectorId === connectors.people) return csvDeclarations(configs.people);
    if (rule.connectorId === connectors.groups) return csvDeclarations(configs.groups);
    if (rule.connectorId === connectors.ldap && (rule.objectType === 'person' || rule.objectType === 'group')) return ldapDeclarations(rule.objectType);
    return [];
  };
  const check = (rule: RuleRow, i: number, mesh: readonly AttributeDeclaration[]) => {
    try {
      validateRuleDefinition(rule.kind as SyncRuleKind, rule.definition, { connectorSpace: connectorSpace(rule), mesh });
    } catch (error) {
      throw new Error(`rule ${i} (${rule.kind} ${rule.objectType} ${JSON.stringify(rule.definition)}) does not validate: ${(error as Error).message}`, { cause: error });
    }
  };
  const importFlows: CompiledSyncRule[] = [];
  rules.forEach((rule, i) => {
    if (rule.kind !== 'import-flow') return;
    check(rule, i, []);
    importFlows.push(compileSyncRule({ id: String(i), kind: 'import-flow', connectorId: rule.connectorId, objectType: rule.objectType, ordinal: rule.ordinal ?? 1, definition: rule.definition }, { connectorSpace: connectorSpace(rule), mesh: [] }));
  });
  const mesh = meshAttributeDeclarations(importFlows);
  for (const rule of rules) {
    const target = rule.kind === 'composer' ? (rule.definition as { target: string }).target : undefined;
    if (target !== undefined && !mesh.some((declaration) => declaration.name === target)) mesh.push({ name: target });
  }
  rules.forEach((rule, i) => {
    if (rule.kind !== 'import-flow') check(rule, i, mesh);
  });
}

// --- the oracle ---

/** Letters Unicode does not decompose, spelt in ASCII, as identity rules usually want them (ß→ss, ł→l, ø→o). */
const SPELT_OUT: Record<string, string> = { ß: 'ss', æ: 'ae', Æ: 'AE', ø: 'o', Ø: 'O', ł: 'l', Ł: 'L', đ: 'd', Đ: 'D', þ: 'th', Þ: 'TH', œ: 'oe', Œ: 'OE' };

function asciiLetters(text: string): string {
  const folded = text.normalize('NFD').replace(/\p{M}/gu, '');
  return [...folded]
    .map((c) => SPELT_OUT[c] ?? c)
    .join('')
    .replace(/[^A-Za-z0-9]/g, '');
}

/** The account name a person's name gives before any counter: initial and surname in ASCII, lower case, at most 20 characters. */
export function accountNameBase(person: Pick<Person, 'givenName' | 'surname'>): string {
  return (asciiLetters(person.givenName).slice(0, 1) + asciiLetters(person.surname)).toLowerCase().slice(0, ACCOUNT_NAME_MAX_LENGTH);
}

/**
 * Whether `uid` is a form the unique composer may hand out for `base`: the
 * base itself, or the base shortened so a counter (2, 3, …) still fits.
 * Which one a person gets depends on who was composed first, so the
 * oracle checks the form and, across the directory, uniqueness.
 */
export function isAccountNameFor(uid: string, base: string): boolean {
  if (uid === base) return true;
  const match = /^(.*?)([1-9][0-9]*)$/.exec(uid);
  if (!match || Number(match[2]) < 2) return false;
  return match[1] === base.slice(0, ACCOUNT_NAME_MAX_LENGTH - match[2].length);
}

/** One entry slapd must hold: reference values (manager, member) as DN keys; uid is checked by {@link isAccountNameFor}. */
export interface ExpectedEntry {
  key: string;
  /** For messages. */
  dn: string;
  kind: 'person' | 'group';
  /** The anchor in the HR feed. */
  id: string;
  attributes: Record<string, string[]>;
  /** The account name's base, for people. */
  accountNameBase?: string;
}

const DN_VALUED = new Set(['manager', 'member']);

export const personKey = (layout: DirectoryLayout, employeeId: string) => dnKeyOf(['employeeNumber', employeeId], layout.people);
const groupKey = (layout: DirectoryLayout, name: string) => dnKeyOf(['cn', name], layout.groups);

export function expectedPerson(layout: DirectoryLayout, person: Person, accountNameOf: Person): ExpectedEntry {
  const displayName = `${person.preferredName ?? person.givenName} ${person.surname}`;
  const attributes: Record<string, string[]> = {
    objectclass: ['inetOrgPerson'],
    employeenumber: [person.employeeId],
    cn: [displayName],
    displayname: [displayName],
    sn: [person.surname],
    givenname: [person.givenName],
    title: [person.title],
    departmentnumber: [person.department],
    l: [person.location],
    mobile: [person.mobile],
    employeetype: [person.employmentStatus],
  };
  if (person.manager !== undefined) attributes['manager'] = [personKey(layout, person.manager)];
  return { key: personKey(layout, person.employeeId), dn: `employeeNumber=${person.employeeId},${layout.people}`, kind: 'person', id: person.employeeId, attributes, accountNameBase: accountNameBase(accountNameOf) };
}

/** A group's entry, or none while it has no members (see hrDirectoryRules). */
export function expectedGroup(layout: DirectoryLayout, group: Group): ExpectedEntry | undefined {
  if (group.members.length === 0) return undefined;
  return {
    key: groupKey(layout, group.name),
    dn: `cn=${group.name},${layout.groups}`,
    kind: 'group',
    id: group.groupId,
    attributes: { objectclass: ['groupOfNames'], cn: [group.name], businesscategory: [group.kind], member: group.members.map((id) => personKey(layout, id)) },
  };
}

/**
 * Everything slapd must hold below the layout for a population: one entry
 * per person and per non-empty group. `firstSeen` gives, per employee id,
 * the person as the engine first composed their account name (a renamed
 * person keeps the name of their first surname).
 */
export function expectedDirectory(layout: DirectoryLayout, population: Population, firstSeen: ReadonlyMap<string, Person>): Map<string, ExpectedEntry> {
  const entries = new Map<string, ExpectedEntry>();
  // The directory compares these names case-insensitively; two that differ only in case would be one entry there.
  const names = new Set<string>();
  for (const entry of [
    ...population.people.map((person) => expectedPerson(layout, person, firstSeen.get(person.employeeId) ?? person)),
    ...population.groups.flatMap((group) => expectedGroup(layout, group) ?? []),
  ]) {
    if (names.has(entry.key.toLowerCase())) throw new Error(`the oracle names two entries ${entry.dn}: names that LDAP compares as equal`);
    names.add(entry.key.toLowerCase());
    entries.set(entry.key, entry);
  }
  return entries;
}

/** An entry read from slapd in the oracle's terms: reference values as DN keys, values sorted. */
function comparable(entry: DirectoryEntry): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(entry.attributes)) out[name] = (DN_VALUED.has(name) ? values.map(dnKey) : [...values]).sort();
  return out;
}

/**
 * Every difference between what slapd holds and the oracle, as readable
 * lines (empty when they are equal): entries missing or unexpected,
 * attributes with other values, account names of the wrong form, and
 * account names held twice (compared case-insensitively, as the engine
 * reserves them).
 */
export function compareDirectory(actual: readonly DirectoryEntry[], expected: ReadonlyMap<string, ExpectedEntry>): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  const uids = new Map<string, string>();
  for (const entry of actual) {
    const key = dnKey(entry.dn);
    const oracle = expected.get(key);
    if (!oracle) {
      problems.push(`unexpected entry ${entry.dn}`);
      continue;
    }
    if (seen.has(key)) problems.push(`entry ${entry.dn} read twice`);
    seen.add(key);
    const have = comparable(entry);
    const want: Record<string, string[]> = {};
    for (const [name, values] of Object.entries(oracle.attributes)) want[name] = [...values].sort();
    if (oracle.kind === 'person') {
      const uid = have['uid'] ?? [];
      delete have['uid'];
      if (uid.length !== 1 || !isAccountNameFor(uid[0], oracle.accountNameBase ?? '')) problems.push(`${entry.dn}: uid ${JSON.stringify(uid)} is not an account name for ${oracle.accountNameBase}`);
      else {
        const other = uids.get(uid[0].toLowerCase());
        if (other) problems.push(`${entry.dn}: uid ${uid[0]} is held by ${other} too`);
        uids.set(uid[0].toLowerCase(), entry.dn);
      }
    }
    for (const name of new Set([...Object.keys(have), ...Object.keys(want)])) {
      if (JSON.stringify(have[name] ?? []) !== JSON.stringify(want[name] ?? [])) {
        problems.push(`${entry.dn}: ${name} is ${short(have[name])}, the oracle says ${short(want[name])}`);
      }
    }
  }
  for (const [key, oracle] of expected) if (!seen.has(key)) problems.push(`missing entry ${oracle.dn}`);
  return problems;
}

function short(values: readonly string[] | undefined): string {
  if (!values || values.length === 0) return '(none)';
  const shown = values.length > 5 ? [...values.slice(0, 5), `… ${values.length} values`] : values;
  return JSON.stringify(shown);
}

// --- operations ---

/** Attributes slapd maintains itself; accesslog records them with every write, the engine never sends them. */
const OPERATIONAL = new Set(['structuralobjectclass', 'entryuuid', 'creatorsname', 'createtimestamp', 'entrycsn', 'modifiersname', 'modifytimestamp']);

/**
 * One write as the test compares it: its type, its DN key and its
 * modifications (`attr:op value`, names in lower case, DN values as keys,
 * sorted; a uid value as `*`, whose exact form the directory check judges).
 */
export function operationSignature(type: string, key: string, mods: readonly string[]): string {
  return `${type} ${key} ${[...mods].sort().join(' | ')}`;
}

function modLine(name: string, op: '+' | '-' | '=', value: string): string {
  const lower = name.toLowerCase();
  const shown = lower === 'uid' ? '*' : DN_VALUED.has(lower) ? dnKey(value) : value;
  return `${lower}:${op} ${shown}`;
}

/** A logged write in the same form, with slapd's own bookkeeping left out. */
export function loggedSignature(operation: LoggedOperation): string {
  const mods: string[] = [];
  for (const line of operation.reqMod) {
    const match = /^([^:]+):([+\-=#]) ?(.*)$/s.exec(line);
    if (!match) {
      mods.push(`unparsed ${line}`);
      continue;
    }
    const [, name, op, value] = match;
    if (OPERATIONAL.has(name.toLowerCase())) continue;
    mods.push(modLine(name, op as '+' | '-' | '=', value));
  }
  const extra = operation.reqType === 'modrdn' ? ` -> ${operation.reqNewRDN ?? ''},${operation.reqNewSuperior ?? ''}` : '';
  return operationSignature(operation.reqType, dnKey(operation.reqDN), mods) + extra;
}

function addOf(entry: ExpectedEntry): string {
  const mods: string[] = [];
  for (const [name, values] of Object.entries(entry.attributes)) for (const value of values) mods.push(`${name}:+ ${value}`);
  if (entry.kind === 'person') mods.push('uid:+ *');
  return operationSignature('add', entry.key, mods);
}

/** Person attributes that a modify replaces, from the oracle entries before and after. */
function personModifications(before: ExpectedEntry, after: ExpectedEntry): string[] {
  const mods: string[] = [];
  for (const name of new Set([...Object.keys(before.attributes), ...Object.keys(after.attributes)])) {
    const was = before.attributes[name] ?? [];
    const now = after.attributes[name] ?? [];
    if (JSON.stringify(was) === JSON.stringify(now)) continue;
    if (now.length === 0) mods.push(`${name}:=`);
    else for (const value of now) mods.push(`${name}:= ${value}`);
  }
  return mods;
}

/** One expected write: the DN key it is about, and its signature. */
export interface ExpectedOperation {
  key: string;
  signature: string;
}

/**
 * The writes a delta must cause, from the generator's change list and the
 * two populations, each entry's in the order it must reach the directory:
 *
 * - an add per hire and rehire, a delete per leaver;
 * - per modified person one modify replacing exactly the directory
 *   attributes whose values changed (none when only HR-internal ones did,
 *   such as the hire date);
 * - per group whose members changed a modify removing exactly the members
 *   who left, then a modify adding exactly those who joined — two writes
 *   when both happened, because the connector contract carries one change
 *   per attribute and the engine queues a group that gains and loses members
 *   as two changes, the removes first (docs/engine.md, "Export items") —
 *   or an add or a delete when the group becomes non-empty or empty.
 */
export function expectedOperations(layout: DirectoryLayout, before: Population, after: Population, changes: DeltaChanges, firstSeen: ReadonlyMap<string, Person>): ExpectedOperation[] {
  const operations: ExpectedOperation[] = [];
  const push = (key: string, signature: string) => operations.push({ key, signature });
  const seenAs = (person: Person) => firstSeen.get(person.employeeId) ?? person;
  for (const change of changes.people) {
    const key = personKey(layout, change.employeeId);
    switch (change.kind) {
      case 'hire':
      case 'rehire':
        push(key, addOf(expectedPerson(layout, change.after, seenAs(change.after))));
        break;
      case 'leave':
        push(key, operationSignature('delete', key, []));
        break;
      case 'modify': {
        const mods = personModifications(expectedPerson(layout, change.before, seenAs(change.before)), expectedPerson(layout, change.after, seenAs(change.after)));
        if (mods.length > 0) push(key, operationSignature('modify', key, mods));
        break;
      }
    }
  }
  const groupsBefore = new Map(before.groups.map((group) => [group.groupId, group]));
  const groupsAfter = new Map(after.groups.map((group) => [group.groupId, group]));
  for (const change of changes.groups) {
    const was = groupsBefore.get(change.groupId);
    const now = groupsAfter.get(change.groupId);
    const wasEntry = was ? expectedGroup(layout, was) : undefined;
    const nowEntry = now ? expectedGroup(layout, now) : undefined;
    if (!wasEntry && nowEntry) push(nowEntry.key, addOf(nowEntry));
    else if (wasEntry && !nowEntry) push(wasEntry.key, operationSignature('delete', wasEntry.key, []));
    else if (wasEntry && nowEntry) {
      if (change.removed.length > 0) push(nowEntry.key, operationSignature('modify', nowEntry.key, change.removed.map((id) => `member:- ${personKey(layout, id)}`)));
      if (change.added.length > 0) push(nowEntry.key, operationSignature('modify', nowEntry.key, change.added.map((id) => `member:+ ${personKey(layout, id)}`)));
    }
  }
  return operations;
}

/**
 * Entries whose writes reached the directory in another order than the
 * expected one (for a group: its removes after its adds), as readable lines.
 * Only entries whose writes match as a multiset are judged; the rest are
 * reported by {@link compareOperations}.
 */
export function orderProblems(actual: readonly ExpectedOperation[], expected: readonly ExpectedOperation[]): string[] {
  const byKey = (operations: readonly ExpectedOperation[]) => {
    const map = new Map<string, string[]>();
    for (const { key, signature } of operations) map.set(key, [...(map.get(key) ?? []), signature]);
    return map;
  };
  const have = byKey(actual);
  const problems: string[] = [];
  for (const [key, want] of byKey(expected)) {
    const got = have.get(key) ?? [];
    if (want.length < 2 || JSON.stringify([...got].sort()) !== JSON.stringify([...want].sort())) continue;
    const brief = (signature: string) => signature.replace(` ${key} `, ' ').slice(0, 60);
    if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${key}: written as ${got.map(brief).join(' then ')}, expected ${want.map(brief).join(' then ')}`);
  }
  return problems;
}

/**
 * Writes that reached the directory before the entries they name existed,
 * or after those entries were gone: a `manager` or `member` naming an entry
 * added in the same window must come after its add, and a member must be
 * removed before its entry is deleted (slapd checks neither, so only the
 * order tells). `operations` are in the order slapd logged them.
 */
export function referenceOrderProblems(operations: readonly LoggedOperation[]): string[] {
  const added = new Map<string, number>();
  const deleted = new Map<string, number>();
  operations.forEach((operation, i) => {
    if (operation.reqType === 'add') added.set(dnKey(operation.reqDN), i);
    if (operation.reqType === 'delete') deleted.set(dnKey(operation.reqDN), i);
  });
  const problems: string[] = [];
  operations.forEach((operation, i) => {
    for (const line of operation.reqMod) {
      const match = /^([^:]+):([+\-=]) (.*)$/s.exec(line);
      if (!match || !DN_VALUED.has(match[1].toLowerCase())) continue;
      const [, name, op, value] = match;
      const target = dnKey(value);
      const addedAt = added.get(target);
      const deletedAt = deleted.get(target);
      if (op !== '-' && addedAt !== undefined && addedAt > i) problems.push(`${operation.reqType} of ${operation.reqDN} names ${value} in ${name} before its add`);
      if (op !== '-' && deletedAt !== undefined) problems.push(`${operation.reqType} of ${operation.reqDN} names ${value} in ${name}, which the same export deleted`);
      if (op === '-' && deletedAt !== undefined && deletedAt < i) problems.push(`${operation.reqDN} lost member ${value} only after its delete`);
    }
  });
  return problems;
}

/** Each employee id with the person as first seen: in the first population, else (a hire of a later delta) as they arrived. */
export function firstSeenPeople(populations: readonly Population[]): Map<string, Person> {
  const first = new Map<string, Person>();
  for (const population of populations) for (const person of population.people) if (!first.has(person.employeeId)) first.set(person.employeeId, person);
  return first;
}

/** The difference of two lists of operation signatures as multisets: what is missing and what is extra. */
export function compareOperations(actual: readonly string[], expected: readonly string[]): { missing: string[]; unexpected: string[] } {
  const counts = new Map<string, number>();
  for (const op of expected) counts.set(op, (counts.get(op) ?? 0) + 1);
  const unexpected: string[] = [];
  for (const op of actual) {
    const left = counts.get(op) ?? 0;
    if (left > 0) counts.set(op, left - 1);
    else unexpected.push(op);
  }
  const missing = [...counts].flatMap(([op, n]) => Array.from({ length: n }, () => op));
  return { missing, unexpected };
}
