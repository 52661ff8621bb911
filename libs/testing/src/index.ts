export * from './lib/throwaway-database';
