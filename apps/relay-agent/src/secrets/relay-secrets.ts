import type { SecretResolver } from '@identitymesh/connector-sdk';
import { DomainError } from '@identitymesh/domain';
import { FileSecretRecords, SecretProviders, SecretStore } from '@identitymesh/secrets';
import type { RelayAgentConfig } from '../config/relay-agent.config';

/** Where the relay keeps the credential it got at enrollment. */
export const RELAY_CREDENTIAL_REFERENCE = 'relay/credential';

/**
 * This host's secret store: the same store and providers as the engine's,
 * over a file in the data directory instead of `IM_Secrets` (a relay never
 * touches SQL). It holds the relay's credential and the secrets its
 * connectors' configs refer to.
 */
export function createRelaySecretStore(config: Pick<RelayAgentConfig, 'secretsFile' | 'secrets'>): SecretStore {
  return new SecretStore(new FileSecretRecords({ file: config.secretsFile }), new SecretProviders(config.secrets));
}

/** Connectors resolve their secret references on the relay's host. */
export function relaySecretResolver(store: SecretStore): SecretResolver {
  return { resolve: (reference) => store.get(reference) };
}

/** The relay's credential in the secret store. */
export class RelayCredentials {
  constructor(private readonly store: SecretStore) {}

  async read(): Promise<string | null> {
    try {
      return await this.store.get(RELAY_CREDENTIAL_REFERENCE);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'SECRET_NOT_FOUND') return null;
      throw error;
    }
  }

  async save(credential: string): Promise<void> {
    await this.store.set(RELAY_CREDENTIAL_REFERENCE, credential);
  }
}
