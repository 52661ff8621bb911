import { DomainError } from '@identitymesh/domain';
import type { SchemaState } from './schema.repository';

/** How an operator applies migrations, in both ways the product is installed. */
export const MIGRATE_HINT = 'run `npm run db:migrate` from the repository, or `node main.js migrate` in the installed admin-api or sync-engine folder, with the same IM_DB_* settings';

/** What is wrong with a schema that is not at the expected version, and what to do about it. */
export function describeSchemaProblem(state: SchemaState): string {
  if (state.status === 'ahead') {
    return `the database schema is newer than this version of IdentityMesh (it has migrations this build does not know: ${state.unknown.join(', ')}); upgrade IdentityMesh on this host before starting it`;
  }
  return `the database schema is ${state.status === 'empty' ? 'not created yet' : 'older than this version'} (${state.pending.length} pending migration(s): ${state.pending.join(', ')}); ${MIGRATE_HINT}`;
}

export class SchemaMismatchError extends DomainError {
  constructor(readonly state: SchemaState) {
    super(state.status === 'ahead' ? 'SCHEMA_AHEAD' : 'SCHEMA_BEHIND', describeSchemaProblem(state), {
      pending: state.pending,
      unknown: state.unknown,
      expected: state.expected,
    });
  }
}
