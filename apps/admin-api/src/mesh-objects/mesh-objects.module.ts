import { Module } from '@nestjs/common';
import { MeshObjectsController } from './mesh-objects.controller';
import { MeshObjectsService } from './mesh-objects.service';

@Module({ controllers: [MeshObjectsController], providers: [MeshObjectsService] })
export class MeshObjectsModule {}
