export type { ConformanceHarness, ConformanceObject, ConformanceSamples, ConformanceSystem, SeededObject, SystemDriver } from './lib/conformance-harness';
export { CONFORMANCE_CASES, defaultAttributesMatch } from './lib/conformance-cases';
export type { ConformanceCase, ConformanceContext } from './lib/conformance-cases';
export { describeConnectorConformance, runConformanceCase } from './lib/describe-connector-conformance';
