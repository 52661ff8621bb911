import { likeFragment } from './like-pattern';

describe('likeFragment', () => {
  it('keeps plain ASCII, lower-cased, and turns wildcards, brackets, quotes and backslashes into one %', () => {
    expect(likeFragment('Ann.Lee@Contoso.com')).toBe('ann.lee@contoso.com');
    expect(likeFragment('CN=User 1,OU=People')).toBe('cn=user 1,ou=people');
    expect(likeFragment('50%_off[a]')).toBe('50%off%a%');
    expect(likeFragment('say "hi"\\')).toBe('say %hi%');
  });

  it('turns letters outside ASCII into % (databases lower-case them differently), leaving the exact check to the caller', () => {
    expect(likeFragment('Ärzte Süd')).toBe('%rzte s%d');
    expect(likeFragment('İstanbul')).toBe('%stanbul');
  });
});
