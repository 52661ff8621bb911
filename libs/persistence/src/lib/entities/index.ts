import { ApiKeyEntity } from './api-key.entity';
import { AttributePrecedenceEntity } from './attribute-precedence.entity';
import { AuditEventEntity } from './audit-event.entity';
import { ConnectorLeaseEntity } from './connector-lease.entity';
import { ConnectorSpaceObjectEntity } from './connector-space-object.entity';
import { ConnectorEntity } from './connector.entity';
import { CsReferenceEntity } from './cs-reference.entity';
import { EngineInstanceEntity } from './engine-instance.entity';
import { ExportQueueItemEntity } from './export-queue-item.entity';
import { KeyRingKeyEntity } from './key-ring-key.entity';
import { LicenseStateEntity } from './license-state.entity';
import { MeshJoinKeyEntity } from './mesh-join-key.entity';
import { MeshObjectEntity } from './mesh-object.entity';
import { MeshReferenceEntity } from './mesh-reference.entity';
import { RelayBatchPartEntity } from './relay-batch-part.entity';
import { RelayEnrollmentEntity } from './relay-enrollment.entity';
import { RelayItemPartEntity } from './relay-item-part.entity';
import { RelayResultBatchEntity } from './relay-result-batch.entity';
import { RelayWorkItemEntity } from './relay-work-item.entity';
import { RelayEntity } from './relay.entity';
import { RunChangeEntity } from './run-change.entity';
import { RunObjectErrorEntity } from './run-object-error.entity';
import { RunEntity } from './run.entity';
import { ScheduleStateEntity } from './schedule-state.entity';
import { SecretEntity } from './secret.entity';
import { SyncRuleEntity } from './sync-rule.entity';
import { UniqueValueReservationEntity } from './unique-value-reservation.entity';
import { WatermarkEntity } from './watermark.entity';

export * from './column-types';
export * from './api-key.entity';
export * from './attribute-precedence.entity';
export * from './audit-event.entity';
export * from './connector-lease.entity';
export * from './connector-space-object.entity';
export * from './connector.entity';
export * from './cs-reference.entity';
export * from './engine-instance.entity';
export * from './export-queue-item.entity';
export * from './key-ring-key.entity';
export * from './license-state.entity';
export * from './mesh-join-key.entity';
export * from './mesh-object.entity';
export * from './mesh-reference.entity';
export * from './relay-batch-part.entity';
export * from './relay-enrollment.entity';
export * from './relay-item-part.entity';
export * from './relay-result-batch.entity';
export * from './relay-work-item.entity';
export * from './relay.entity';
export * from './run-change.entity';
export * from './run-object-error.entity';
export * from './run.entity';
export * from './schedule-state.entity';
export * from './secret.entity';
export * from './sync-rule.entity';
export * from './unique-value-reservation.entity';
export * from './watermark.entity';

/** Every entity of the sync model, in the order their tables are created by the migrations. */
export const ALL_ENTITIES = [
  ConnectorEntity,
  MeshObjectEntity,
  ConnectorSpaceObjectEntity,
  CsReferenceEntity,
  MeshJoinKeyEntity,
  MeshReferenceEntity,
  SyncRuleEntity,
  AttributePrecedenceEntity,
  UniqueValueReservationEntity,
  RunEntity,
  RunObjectErrorEntity,
  RunChangeEntity,
  WatermarkEntity,
  ExportQueueItemEntity,
  RelayWorkItemEntity,
  RelayResultBatchEntity,
  AuditEventEntity,
  EngineInstanceEntity,
  ConnectorLeaseEntity,
  RelayEntity,
  RelayEnrollmentEntity,
  SecretEntity,
  ApiKeyEntity,
  KeyRingKeyEntity,
  LicenseStateEntity,
  ScheduleStateEntity,
  RelayBatchPartEntity,
  RelayItemPartEntity,
];
