export * from './lib/model/vocabulary';
export * from './lib/errors/domain-error';
export * from './lib/registry/engine-registry-policy';
