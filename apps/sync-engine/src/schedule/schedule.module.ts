import { Module } from '@nestjs/common';
import { RegistryModule } from '../registry/registry.module';
import { ScheduleService } from './schedule.service';
import { SchedulerClock, systemClock } from './scheduler-clock';

@Module({
  imports: [RegistryModule],
  providers: [ScheduleService, { provide: SchedulerClock, useValue: systemClock }],
  exports: [ScheduleService],
})
export class ScheduleModule {}
