import { Module } from '@nestjs/common';
import { OperationsMetrics } from './operations-metrics.service';

/** Adds the run and export queue gauges to `/metrics` (the platform's MetricsModule serves the route). */
@Module({ providers: [OperationsMetrics] })
export class OperationsMetricsModule {}
