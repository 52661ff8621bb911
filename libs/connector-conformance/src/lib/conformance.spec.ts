import { ConnectorError } from '@identitymesh/connector-sdk';
import { CONFORMANCE_CASES } from './conformance-cases';
import type { ConformanceHarness } from './conformance-harness';
import { describeConnectorConformance, runConformanceCase } from './describe-connector-conformance';
import { InMemoryConnector, InMemoryDirectory, InMemoryFlaws } from './support/in-memory-system';

function inMemoryHarness(flaws: InMemoryFlaws = {}): ConformanceHarness & { closed: number } {
  let directory: InMemoryDirectory | undefined;
  const harness: ConformanceHarness & { closed: number } = {
    closed: 0,
    objectType: 'person',
    capabilities: { deltaImport: 'native', export: true, rename: true, assignsAnchorOnAdd: true },
    async setUp() {
      const fresh = new InMemoryDirectory();
      directory = fresh;
      const connect = () => {
        const connector = new InMemoryConnector(fresh, flaws);
        const close = connector.close.bind(connector);
        connector.close = async () => {
          harness.closed++;
          await close();
        };
        return connector;
      };
      return { connector: connect(), driver: fresh.driver(), reconnect: connect };
    },
    async tearDown() {
      directory = undefined;
    },
    brokenConnector() {
      throw new ConnectorError('CONNECTOR_UNREACHABLE', 'no such directory');
    },
    samples: {
      valid: (n) => ({ dn: `cn=user${n},ou=people`, attributes: { cn: [`user${n}`], sn: [`Surname ${n}`], mail: [`user${n}@corp.example`, `u${n}@corp.example`] } }),
      rejected: { dn: 'cn=nosurname,ou=people', attributes: { cn: ['nosurname'] } },
      update: { sn: ['Changed'], mail: ['changed@corp.example'] },
      renamedDn: (object) => `${object.dn},ou=moved`,
    },
    async injectMalformed() {
      directory?.create('cn=broken,ou=people', { cn: ['broken'] }, true);
    },
  };
  return harness;
}

describeConnectorConformance('in-memory reference', inMemoryHarness());

describe('the conformance kit', () => {
  const caseNamed = (start: string) => {
    const found = CONFORMANCE_CASES.find((c) => c.name.startsWith(start));
    if (!found) throw new Error(`no case '${start}'`);
    return found;
  };

  it.each<[string, InMemoryFlaws]>([
    ['full import returns exactly', { ignoresBatchSize: true }],
    ['re-exporting an applied change', { duplicatesRetriedAdds: true }],
    ['puts watermarks only on batches', { watermarkOnEveryBatch: true }],
    ['delta import after an out-of-band', { deltaMissesDeletes: true }],
    ['an unchanged system gives an empty delta', { deltaRepeatsEverything: true }],
    ['one bad object in an export batch', { batchFailsOnBadObject: true }],
    ['a malformed object in the source', { importStopsAtMalformed: true }],
  ])("fails '%s…' for a connector with %j", async (start, flaws) => {
    const failure = await runConformanceCase(inMemoryHarness(flaws), caseNamed(start)).then(
      () => undefined,
      (error: unknown) => error,
    );
    // A failed expectation or the connector's own error; a TypeError would be a bug in the kit, not a finding.
    expect(failure instanceof ConnectorError || (failure instanceof Error && 'matcherResult' in failure)).toBe(true);
  });

  it('fails the capabilities check when the connector reports others than the harness expects', async () => {
    const harness = inMemoryHarness();
    harness.capabilities = { ...harness.capabilities, rename: false };
    await expect(runConformanceCase(harness, caseNamed('describes a well-formed schema'))).rejects.toThrow();
  });

  it('closes every connector it used and tears the system down, also when a case fails', async () => {
    const harness = inMemoryHarness({ duplicatesRetriedAdds: true });
    let tornDown = 0;
    const tearDown = harness.tearDown;
    harness.tearDown = async () => {
      tornDown++;
      await tearDown();
    };
    await expect(runConformanceCase(harness, caseNamed('re-exporting an applied change'))).rejects.toThrow();
    expect({ closed: harness.closed, tornDown }).toEqual({ closed: 2, tornDown: 1 });
  });
});
