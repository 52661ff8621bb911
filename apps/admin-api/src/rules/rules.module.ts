import { Module } from '@nestjs/common';
import { ConnectorsModule } from '../connectors/connectors.module';
import { RuleSchemasService } from './rule-schemas.service';
import { RulesController } from './rules.controller';
import { RulesService } from './rules.service';

@Module({ imports: [ConnectorsModule], controllers: [RulesController], providers: [RuleSchemasService, RulesService] })
export class RulesModule {}
