import { Controller, Get, Param, Query } from '@nestjs/common';
import { z } from 'zod';
import { idParams } from '../common/schemas';
import type { Page } from '../http/pagination';
import { ApiRoute } from '../http/route-contract';
import { ListMeshObjectsQuery, listMeshObjectsQuery, meshObjectDetail, MeshObjectDetailResponse, meshObjectPage, MeshObjectSummaryResponse } from './dto/mesh-object.dto';
import { MeshObjectsService } from './mesh-objects.service';

@Controller('api/mesh-objects')
export class MeshObjectsController {
  constructor(private readonly meshObjects: MeshObjectsService) {}

  @Get()
  @ApiRoute({
    summary: 'Search the mesh: by object type, an attribute value, a display name prefix',
    tag: 'mesh-objects',
    access: { permission: 'objects.read' },
    query: listMeshObjectsQuery,
    responses: { 200: { description: 'One page of mesh objects in id order', schema: meshObjectPage } },
  })
  list(@Query() query: ListMeshObjectsQuery): Promise<Page<MeshObjectSummaryResponse>> {
    return this.meshObjects.search(query);
  }

  @Get(':id')
  @ApiRoute({
    summary: 'One mesh object: each attribute with its contributing connector and rule, its joined connector-space objects, its references',
    tag: 'mesh-objects',
    access: { permission: 'objects.read' },
    params: idParams,
    responses: { 200: { description: 'The mesh object', schema: meshObjectDetail } },
  })
  get(@Param() params: z.output<typeof idParams>): Promise<MeshObjectDetailResponse> {
    return this.meshObjects.get(params.id);
  }
}
