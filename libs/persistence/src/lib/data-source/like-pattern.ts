/**
 * Text for a `LIKE` pattern over lower-cased text that means the same on
 * every dialect: ASCII letters, digits and a few plain punctuation marks
 * stand for themselves; anything else (wildcards, brackets, quotes and
 * backslashes as JSON escapes them, letters whose lower case differs between
 * databases) becomes `%`. The pattern therefore finds a superset, and the
 * exact comparison happens on the rows it returns.
 */
export function likeFragment(text: string): string {
  let out = '';
  // Lower-cased per character and only in ASCII: 'İ'.toLowerCase() is two characters, one of them ASCII, which a database would not produce.
  for (const char of text) {
    const lower = /^[A-Z]$/.test(char) ? char.toLowerCase() : char;
    out += /^[a-z0-9 .,:;@=+\-/#&()]$/.test(lower) ? lower : out.endsWith('%') ? '' : '%';
  }
  return out;
}
