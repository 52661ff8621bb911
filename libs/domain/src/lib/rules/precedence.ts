import type { MeshAttribute } from '../model/attributes';

/** An IM_AttributePrecedence row: for one mesh attribute of one object type, a connector's rank. */
export interface PrecedenceEntry {
  objectType: string;
  attributeName: string;
  connectorId: string;
  rank: number;
}

/** The precedence rows indexed once per run. */
export interface PrecedenceTable {
  rank(objectType: string, attributeName: string, connectorId: string): number | undefined;
}

export function precedenceTable(entries: readonly PrecedenceEntry[]): PrecedenceTable {
  const ranks = new Map<string, number>();
  for (const e of entries) ranks.set(`${e.objectType}\u0000${e.attributeName}\u0000${e.connectorId}`, e.rank);
  return { rank: (objectType, attributeName, connectorId) => ranks.get(`${objectType}\u0000${attributeName}\u0000${connectorId}`) };
}

/**
 * Why a source may or may not write a mesh attribute:
 * - `vacant`: nobody holds it;
 * - `own`: the source holds it already (its new value, or its null, replaces its old one);
 * - `higher`: the source outranks the holder, or is ranked while the holder is not;
 * - `lower`: the holder outranks the source;
 * - `equal`: same rank, different connector — the holder keeps it, so two equal sources never flap;
 * - `unranked`: the source has no precedence entry for the attribute and someone else holds it;
 * - `composer`: a composer rule computed the attribute; import flows never overwrite it.
 */
export type PrecedenceVerdict = 'vacant' | 'own' | 'higher' | 'lower' | 'equal' | 'unranked' | 'composer';

/**
 * Decides whether `connectorId` may write an attribute now held by `holder`.
 * The higher rank wins and a lower one never overwrites. A source without a
 * precedence entry ranks below every ranked source: it may fill an attribute
 * nobody holds (so a single-source setup needs no precedence rows), but never
 * takes one from another source. A holder whose connector has no entry (its
 * rows were removed) loses to any ranked source.
 */
export function precedenceVerdict(
  table: PrecedenceTable,
  objectType: string,
  attributeName: string,
  connectorId: string,
  holder: MeshAttribute | undefined,
): { allowed: boolean; verdict: PrecedenceVerdict } {
  if (!holder) return { allowed: true, verdict: 'vacant' };
  if (holder.connectorId === null) return { allowed: false, verdict: 'composer' };
  if (holder.connectorId === connectorId) return { allowed: true, verdict: 'own' };
  const mine = table.rank(objectType, attributeName, connectorId);
  if (mine === undefined) return { allowed: false, verdict: 'unranked' };
  const theirs = table.rank(objectType, attributeName, holder.connectorId);
  if (theirs === undefined || mine > theirs) return { allowed: true, verdict: 'higher' };
  return { allowed: false, verdict: mine === theirs ? 'equal' : 'lower' };
}
