/**
 * Per-object outcomes of a sync that are not a rule's own error (those are
 * DomainErrors with their codes): the object is reported in
 * IM_RunObjectErrors with this code and the run goes on.
 */
export type SyncObjectErrorCode =
  /** The join matched a mesh object that already has an object of this connector and type. */
  | 'JOIN_TARGET_CONNECTED'
  /** A reference names an object that is not joined to a mesh object (at the end of the run). */
  | 'REFERENCE_UNRESOLVED'
  /** A provisioning rule named an object that another mesh object already has. */
  | 'PROVISION_TARGET_TAKEN'
  /** A composed unique value is longer than a reservation holds. */
  | 'UNIQUE_VALUE_TOO_LONG'
  /** Other engines kept taking the unique values this object tried. */
  | 'UNIQUE_VALUE_CONTENDED';

export class SyncObjectError extends Error {
  constructor(
    readonly code: SyncObjectErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SyncObjectError';
  }
}
