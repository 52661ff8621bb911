import type { LogLevel } from '@identitymesh/platform';
import { ConfigError } from '@identitymesh/platform';
import { RelayAgentConfig } from '../config/relay-agent.config';
import { RelayCommands } from './relay-commands';

const BASE = { IM_DATA_DIR: '/var/lib/identitymesh', IM_HUB_URL: 'https://hub.example.test', IM_RELAY_NAME: 'branch-1' };

describe('RelayCommands', () => {
  let next: Record<string, string>;
  let applied: LogLevel[];
  let commands: RelayCommands;

  beforeEach(() => {
    next = { ...BASE };
    applied = [];
    let clock = new Date('2026-03-01T10:00:00Z');
    commands = new RelayCommands({
      config: RelayAgentConfig.load(BASE, '/'),
      reload: () => RelayAgentConfig.load(next, '/'),
      applyLogLevel: (level) => applied.push(level),
      itemsInHand: () => 2,
      now: () => {
        const now = clock;
        clock = new Date(clock.getTime() + 90_000);
        return now;
      },
    });
  });

  it('answers ping with who it is and what it holds', async () => {
    const reply = await commands.handle({ kind: 'ping', sentAt: '2026-03-01T10:00:00Z' });
    expect(reply).toEqual({ ok: true, detail: expect.stringMatching(/^relay branch-1 on .+, version .+, up 90 s, 2 work item\(s\) in hand$/) });
  });

  it('applies a new log level without a restart and says what changed', async () => {
    next['IM_LOG_LEVEL'] = 'debug';
    expect(await commands.handle({ kind: 'reload-config', sentAt: '' })).toEqual({ ok: true, detail: 'applied: IM_LOG_LEVEL info -> debug' });
    expect(applied).toEqual(['debug']);
    expect(await commands.handle({ kind: 'reload-config', sentAt: '' })).toEqual({ ok: true, detail: 'nothing changed that applies without a restart' });
    expect(applied).toEqual(['debug']);
  });

  it('names the changed settings that need a restart, and applies none of them', async () => {
    next['IM_HUB_URL'] = 'https://other-hub.example.test';
    next['IM_RELAY_MAX_CONCURRENT_ITEMS'] = '8';
    expect(await commands.handle({ kind: 'reload-config', sentAt: '' })).toEqual({
      ok: true,
      detail: 'nothing changed that applies without a restart; changed, applies after a restart: IM_HUB_URL, IM_RELAY_MAX_CONCURRENT_ITEMS',
    });
    expect(applied).toEqual([]);
  });

  it('keeps the running configuration when the new one is invalid', async () => {
    next['IM_LOG_LEVEL'] = 'loud';
    const reply = await commands.handle({ kind: 'reload-config', sentAt: '' });
    expect(reply.ok).toBe(false);
    expect(reply.detail).toContain('IM_LOG_LEVEL');
    expect(applied).toEqual([]);
    expect(() => RelayAgentConfig.load(next, '/')).toThrow(ConfigError);
  });
});
