import type { Connector } from '@identitymesh/connector-sdk';
import { CONFORMANCE_CASES, ConformanceCase } from './conformance-cases';
import type { ConformanceHarness, ConformanceSystem } from './conformance-harness';

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Runs one case of the kit on a fresh system from the harness: `setUp`, the
 * case, then every connector it used is closed and `tearDown` runs, also
 * when the case fails.
 */
export async function runConformanceCase(harness: ConformanceHarness, conformanceCase: ConformanceCase): Promise<void> {
  const connectors: Connector[] = [];
  let system: ConformanceSystem | undefined;
  try {
    system = await harness.setUp();
    connectors.push(system.connector);
    const { reconnect } = system;
    await conformanceCase.run({
      harness,
      system,
      reconnect: async () => {
        const connector = await reconnect();
        connectors.push(connector);
        return connector;
      },
    });
  } finally {
    try {
      for (const connector of connectors) await connector.close();
    } finally {
      await harness.tearDown();
    }
  }
}

/**
 * Declares the conformance kit's jest tests for one connector, to be called
 * at the top level of the connector's own spec file:
 *
 * ```ts
 * describeConnectorConformance('csv', csvHarness);
 * ```
 *
 * Each case starts from a fresh, empty system from `harness.setUp()`; cases
 * that do not apply to the harness's capabilities (export cases for an
 * import-only connector) are not declared at all.
 */
export function describeConnectorConformance(name: string, harness: ConformanceHarness): void {
  describe(`${name} connector conformance`, () => {
    for (const conformanceCase of CONFORMANCE_CASES.filter((c) => c.appliesTo(harness))) {
      it(conformanceCase.name, () => runConformanceCase(harness, conformanceCase), harness.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    }
  });
}
