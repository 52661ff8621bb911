import { z } from 'zod';
import { ENGINE_INSTANCE_STATUSES } from '@identitymesh/domain';

const leaseResponse = z.object({ connectorId: z.string(), fencingToken: z.int(), acquiredAt: z.string(), expiresAt: z.string() }).meta({ id: 'ConnectorLease' });

const instanceResponse = z
  .object({
    id: z.string(),
    host: z.string(),
    pid: z.int(),
    version: z.string(),
    status: z.enum(ENGINE_INSTANCE_STATUSES),
    live: z.boolean().meta({ description: 'Not stopped and heartbeated within IM_ENGINE_STALE_AFTER_SECONDS' }),
    startedAt: z.string(),
    heartbeatAt: z.string(),
    leases: z.array(leaseResponse).meta({ description: 'The connector leases the engine holds now' }),
  })
  .meta({ id: 'EngineInstance' });

export const instancesResponse = z.object({ items: z.array(instanceResponse) }).meta({ id: 'EngineInstanceList' });
export type InstancesResponse = z.infer<typeof instancesResponse>;

