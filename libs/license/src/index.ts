export * from './lib/license.errors';
export * from './lib/trusted-keys';
export * from './lib/license-format';
export * from './lib/license-settings';
export * from './lib/license-monitor';
export * from './lib/license-remedy';
export * from './lib/license-watch';
export * from './lib/in-memory-license-file';
