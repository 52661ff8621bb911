export * from './lib/connector';
export * from './lib/csv';
