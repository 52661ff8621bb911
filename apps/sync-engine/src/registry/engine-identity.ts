/** Who this engine is, for the features that act on its behalf (the engine registry provides it). */
export abstract class EngineIdentity {
  abstract readonly instanceId: string;
  /** Only the active engine of a database takes work; a passive standby waits. */
  abstract readonly isActive: boolean;
}
