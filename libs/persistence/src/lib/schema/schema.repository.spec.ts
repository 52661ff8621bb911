import { compareSchema } from './schema.repository';

describe('compareSchema', () => {
  it('is current when every known migration is applied', () => {
    expect(compareSchema(['a', 'b'], ['a', 'b'])).toMatchObject({ status: 'current', pending: [], unknown: [], expected: 'b' });
  });
  it('is empty on a database never migrated', () => {
    expect(compareSchema(['a', 'b'], [])).toMatchObject({ status: 'empty', pending: ['a', 'b'] });
  });
  it('is behind when some migrations are pending', () => {
    expect(compareSchema(['a', 'b'], ['a'])).toMatchObject({ status: 'behind', pending: ['b'] });
  });
  it('is ahead when the database has migrations this build does not know, even if some are pending', () => {
    expect(compareSchema(['a', 'b'], ['a', 'c'])).toMatchObject({ status: 'ahead', unknown: ['c'], pending: ['b'] });
  });
});
