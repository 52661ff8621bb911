import { join } from 'node:path';
import { ConfigError } from '@identitymesh/platform';
import { RelayAgentConfig } from './relay-agent.config';

const DATA_DIR = '/var/lib/identitymesh';

function load(env: Record<string, string>): RelayAgentConfig {
  return RelayAgentConfig.load({ IM_DATA_DIR: DATA_DIR, ...env }, '/');
}

function problems(env: Record<string, string>): string {
  try {
    load(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration loaded');
}

describe('RelayAgentConfig', () => {
  it('has defaults for everything but the hub and the credential', () => {
    const config = load({});
    expect(config).toMatchObject({ port: 8082, maxConcurrentItems: 4, secretsFile: join(DATA_DIR, 'secrets.json'), hubUrl: undefined, enrollmentToken: undefined });
    expect(config.secrets).toMatchObject({ provider: 'host', hostKeyFile: join(DATA_DIR, 'keys', 'secrets-host.key') });
  });

  it('reads the hub, the enrollment token, the item limit and the secrets file', () => {
    const token = `ime_enr1_${'x'.repeat(43)}`;
    const config = load({ IM_HUB_URL: 'https://hub.example.test/', IM_RELAY_ENROLLMENT_TOKEN: token, IM_RELAY_MAX_CONCURRENT_ITEMS: '16', IM_RELAY_SECRETS_FILE: 'relay/secrets.json' });
    expect(config).toMatchObject({ hubUrl: 'https://hub.example.test', enrollmentToken: token, maxConcurrentItems: 16, secretsFile: join(DATA_DIR, 'relay', 'secrets.json') });
  });

  it('refuses a token that is not an enrollment token without printing it', () => {
    const message = problems({ IM_RELAY_ENROLLMENT_TOKEN: 'imr_relay1_secret-value' });
    expect(message).toContain('IM_RELAY_ENROLLMENT_TOKEN: is not an enrollment token (those start with ime_)');
    expect(message).not.toContain('secret-value');
  });

  it('refuses more items at once than one pull can carry, and a hub URL that is not http(s)', () => {
    expect(problems({ IM_RELAY_MAX_CONCURRENT_ITEMS: '17' })).toContain('IM_RELAY_MAX_CONCURRENT_ITEMS: must be at most 16');
    expect(problems({ IM_HUB_URL: 'ftp://hub' })).toContain('IM_HUB_URL');
  });
});
