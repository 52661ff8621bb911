import { Module } from '@nestjs/common';
import { HubLinkService } from './hub-link.service';

@Module({ providers: [HubLinkService] })
export class HubModule {}
