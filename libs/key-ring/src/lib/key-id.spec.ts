import { newKeyId } from './key-id';

describe('newKeyId', () => {
  const at = Date.parse('2026-01-01T00:00:00.000Z');

  it('is a version 7 UUID carrying the creation time', () => {
    const id = newKeyId(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
  });

  it('sorts after every existing key, even within one millisecond or behind another clock', () => {
    const ids = [newKeyId(at)];
    for (let i = 0; i < 50; i++) ids.push(newKeyId(at - (i % 3) * 1000, ids));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('ignores ids of another shape', () => {
    expect(newKeyId(at, ['k1', 'ffffffff-ffff-4fff-8fff-ffffffffffff']).startsWith('019b76da-a800-7')).toBe(true);
  });
});
