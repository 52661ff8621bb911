import { Injectable, OnModuleInit } from '@nestjs/common';
import { HealthRegistry } from '@identitymesh/platform';
import { RelayAgentConfig } from '../config/relay-agent.config';

/**
 * The agent's link to the hub. Readiness reports whether the agent knows a
 * hub to dial; the socket.io session, enrollment and the work loop join this
 * service when the relay protocol is built (see docs/topology.md).
 */
@Injectable()
export class HubLinkService implements OnModuleInit {
  constructor(
    private readonly config: RelayAgentConfig,
    private readonly health: HealthRegistry,
  ) {}

  onModuleInit(): void {
    this.health.register({
      name: 'hub',
      run: async () =>
        this.config.hubUrl
          ? { status: 'up', detail: `hub configured at ${this.config.hubUrl}` }
          : { status: 'down', detail: 'IM_HUB_URL is not set: this agent has no hub to dial' },
    });
  }
}
