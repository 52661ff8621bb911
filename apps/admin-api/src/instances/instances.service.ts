import { Injectable } from '@nestjs/common';
import { isEngineAlive } from '@identitymesh/domain';
import { EngineRegistryRepository } from '@identitymesh/persistence';
import { iso } from '../common/schemas';
import { AdminApiConfig } from '../config/admin-api.config';
import type { InstancesResponse } from './dto/instance.dto';

/** Engines stopped or silent for longer than this are left out: the registry is not an archive. */
const LISTED_FOR_MS = 24 * 3600_000;

@Injectable()
export class InstancesService {
  constructor(
    private readonly registry: EngineRegistryRepository,
    private readonly config: AdminApiConfig,
  ) {}

  async list(): Promise<InstancesResponse> {
    const now = new Date();
    const engines = await this.registry.listRecent(new Date(now.getTime() - LISTED_FOR_MS));
    return {
      items: engines.map((engine) => ({
        id: engine.id,
        host: engine.host,
        pid: engine.pid,
        version: engine.version,
        status: engine.status,
        live: isEngineAlive(engine, now, this.config.engineStaleAfterMs),
        startedAt: iso(engine.startedAt),
        heartbeatAt: iso(engine.heartbeatAt),
        leases: engine.leases.map((lease) => ({ connectorId: lease.connectorId, fencingToken: lease.fencingToken, acquiredAt: iso(lease.acquiredAt), expiresAt: iso(lease.expiresAt) })),
      })),
    };
  }
}
