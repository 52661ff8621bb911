export * from './lib/key-ring';
export * from './lib/key-ring.port';
export * from './lib/key-ring.errors';
export * from './lib/config/key-ring-settings';
export * from './lib/rotating-key-ring';
export { keyMaterialReference } from './lib/material/key-material';
export { KEY_RING_ALGORITHM, TOKEN_VERSION } from './lib/token/token-format';
