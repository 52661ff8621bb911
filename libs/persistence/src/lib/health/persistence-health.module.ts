import { Injectable, Module, OnModuleInit } from '@nestjs/common';
import { HealthRegistry } from '@identitymesh/platform';
import { describeSchemaProblem } from '../schema/schema.errors';
import { SchemaRepository } from '../schema/schema.repository';

/** Adds the `database` and `schema` readiness checks every database-backed app reports. */
@Injectable()
class PersistenceHealthChecks implements OnModuleInit {
  constructor(
    private readonly health: HealthRegistry,
    private readonly schema: SchemaRepository,
  ) {}

  onModuleInit(): void {
    this.health.register({
      name: 'database',
      run: async () => {
        const started = Date.now();
        await this.schema.ping();
        return { status: 'up', detail: `answered in ${Date.now() - started} ms` };
      },
    });
    this.health.register({
      name: 'schema',
      run: async () => {
        const state = await this.schema.state();
        return state.status === 'current'
          ? { status: 'up', detail: `at expected version ${state.expected}` }
          : { status: 'down', detail: describeSchemaProblem(state) };
      },
    });
  }
}

@Module({ providers: [PersistenceHealthChecks] })
export class PersistenceHealthModule {}
