import { Controller, Get } from '@nestjs/common';
import { ApiRoute } from '../http/route-contract';
import { instancesResponse, InstancesResponse } from './dto/instance.dto';
import { InstancesService } from './instances.service';

@Controller('api/instances')
export class InstancesController {
  constructor(private readonly instances: InstancesService) {}

  @Get()
  @ApiRoute({
    summary: 'The engine registry: engines of the last day with their heartbeats and the connector leases they hold',
    description: 'Newest heartbeat first. Not paginated: one row per engine process of the last 24 hours.',
    tag: 'instances',
    access: { permission: 'dashboard.read' },
    responses: { 200: { description: 'The engines', schema: instancesResponse } },
  })
  list(): Promise<InstancesResponse> {
    return this.instances.list();
  }
}
