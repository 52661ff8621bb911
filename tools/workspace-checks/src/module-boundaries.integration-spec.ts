import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The layering of architecture.md, enforced by @nx/enforce-module-boundaries:
 * each case lints a line of code as if it sat in a given project's file and
 * checks that the rule rejects (or accepts) it. A rule set that allowed
 * everything would fail here.
 */
const rejected: Array<[string, string, string]> = [
  ['the domain importing Nest', 'libs/domain/src/lib/probe.ts', "import { Injectable } from '@nestjs/common';"],
  ['the domain importing TypeORM', 'libs/domain/src/lib/probe.ts', "import { DataSource } from 'typeorm';"],
  ['the domain importing a driver', 'libs/domain/src/lib/probe.ts', "import { Client } from 'pg';"],
  ['the domain importing the file system', 'libs/domain/src/lib/probe.ts', "import { readFileSync } from 'node:fs';"],
  ['the domain importing the persistence lib', 'libs/domain/src/lib/probe.ts', "import { SchemaRepository } from '@identitymesh/persistence';"],
  ['the platform lib importing persistence', 'libs/platform/src/lib/probe.ts', "import { SchemaRepository } from '@identitymesh/persistence';"],
  ['the relay agent importing persistence', 'apps/relay-agent/src/probe.ts', "import { SchemaRepository } from '@identitymesh/persistence';"],
  ['the relay agent importing TypeORM', 'apps/relay-agent/src/probe.ts', "import { DataSource } from 'typeorm';"],
  ['production code importing the testing lib', 'apps/admin-api/src/probe.ts', "import { createThrowawayDatabase } from '@identitymesh/testing';"],
  ['a lib importing an app', 'libs/persistence/src/lib/probe.ts', "import { AdminApiConfig } from '../../../../apps/admin-api/src/config/admin-api.config';"],
  ['a deep import into another lib', 'apps/sync-engine/src/probe.ts', "import { SchemaRepository } from '../../../libs/persistence/src/lib/schema/schema.repository';"],
];
const accepted: Array<[string, string, string]> = [
  ['an app importing persistence', 'apps/admin-api/src/probe.ts', "import { SchemaRepository } from '@identitymesh/persistence';"],
  ['persistence importing the platform lib', 'libs/persistence/src/lib/probe.ts', "import { HealthRegistry } from '@identitymesh/platform';"],
  ['the relay agent importing the platform lib', 'apps/relay-agent/src/probe.ts', "import { HealthRegistry } from '@identitymesh/platform';"],
  ['a test importing the testing lib', 'libs/persistence/src/lib/probe.integration-spec.ts', "import { createThrowawayDatabase } from '@identitymesh/testing';"],
  ['the domain importing itself through a relative path', 'libs/domain/src/lib/probe.ts', "import { DomainError } from './errors/domain-error';"],
];

// One ESLint process for every probe: loading the project graph is the slow part.
const probes = [...rejected, ...accepted].map(([, file, code]) => ({ file, code }));
const messages = JSON.parse(
  execFileSync(process.execPath, [join(__dirname, 'lint-probes.mjs'), JSON.stringify(probes), '--workspace'], { encoding: 'utf8', timeout: 110_000 }),
) as string[][];
const messagesOf = (file: string, code: string) => messages[probes.findIndex((p) => p.file === file && p.code === code)];

describe('module boundaries', () => {
  it.each(rejected)('rejects %s', (_case, file, code) => {
    expect(messagesOf(file, code)).not.toEqual([]);
  });

  it.each(accepted)('accepts %s', (_case, file, code) => {
    expect(messagesOf(file, code)).toEqual([]);
  });

  it('finds no boundary violation anywhere in the workspace', () => {
    expect(messages[messages.length - 1]).toEqual([]);
  });
});
