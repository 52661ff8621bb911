export * from './lib/connector';
export * from './lib/csv';
export * from './lib/ldap';
export * from './lib/sql';
export * from './lib/relay/relay-protocol';
export * from './lib/relay/relay-progress';
