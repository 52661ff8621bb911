import { Module } from '@nestjs/common';
import { RelaySecretsModule } from '../secrets/relay-secrets.module';
import { HubLinkService } from './hub-link.service';

@Module({ imports: [RelaySecretsModule], providers: [HubLinkService] })
export class HubModule {}
