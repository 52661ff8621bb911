import { cs_CZ, da, de, en, es, fr, it as italian, nb_NO, pl, pt_BR, sv, type LocaleDefinition } from '@faker-js/faker';
import { APOSTROPHE_SURNAMES, NICKNAMES } from './reference-data';
import type { RandomStream } from './random';

/** A name with a character outside ASCII or an apostrophe: what breaks naive quoting, logins and encodings. */
export function isInternationalName(name: string): boolean {
  return /[^\x20-\x7e]|'/.test(name);
}

interface NamePool {
  given: readonly string[];
  givenInternational: readonly string[];
  surnames: readonly string[];
  surnamesInternational: readonly string[];
}

interface NamePools {
  plain: NamePool;
  international: readonly NamePool[];
  apostropheSurnames: readonly string[];
}

/** Every value of a faker name list, whatever its split by sex, in the list's own order. */
function namesOf(list: Partial<Record<string, readonly string[] | null>> | null | undefined): string[] {
  if (!list) return [];
  const names = new Set<string>();
  for (const key of ['generic', 'female', 'male']) for (const name of list[key] ?? []) names.add(name);
  return [...names];
}

function poolOf(locale: LocaleDefinition): NamePool {
  const given = namesOf(locale.person?.first_name);
  const surnames = namesOf(locale.person?.last_name);
  return {
    given,
    givenInternational: given.filter(isInternationalName),
    surnames,
    surnamesInternational: surnames.filter(isInternationalName),
  };
}

let pools: NamePools | undefined;

/** Built once per process from faker's locale data; the lists are fixed by the pinned faker version. */
function namePools(): NamePools {
  if (pools) return pools;
  const english = poolOf(en);
  pools = {
    // The English lists hold a few O'… and D'… names; kept out so the international rate is the configured one.
    plain: {
      given: english.given.filter((name) => !isInternationalName(name)),
      givenInternational: [],
      surnames: english.surnames.filter((name) => !isInternationalName(name)),
      surnamesInternational: [],
    },
    international: [es, fr, de, italian, sv, pl, pt_BR, nb_NO, da, cs_CZ].map(poolOf),
    apostropheSurnames: [...new Set([...APOSTROPHE_SURNAMES, ...english.surnamesInternational.filter((name) => name.includes("'"))])],
  };
  return pools;
}

export interface PersonName {
  givenName: string;
  surname: string;
}

/** Share of international names that get an apostrophe surname (O'Brien) rather than diacritics. */
const APOSTROPHE_SHARE = 0.25;

/** Draws a plain English name. */
export function plainName(random: RandomStream): PersonName {
  const { plain } = namePools();
  return { givenName: random.pick(plain.given), surname: random.pick(plain.surnames) };
}

/** Draws a name with diacritics (José Núñez, Łucja Wróbel) or an apostrophe (Ryan O'Brien). */
export function internationalName(random: RandomStream): PersonName {
  const { plain, international, apostropheSurnames } = namePools();
  if (random.chance(APOSTROPHE_SHARE)) return { givenName: random.pick(plain.given), surname: random.pick(apostropheSurnames) };
  const pool = random.pick(international);
  if (pool.surnamesInternational.length > 0 && (pool.givenInternational.length === 0 || random.chance(0.6))) {
    return { givenName: random.pick(pool.given), surname: random.pick(pool.surnamesInternational) };
  }
  return { givenName: random.pick(pool.givenInternational), surname: random.pick(pool.surnames) };
}

/** A surname of the same kind as `current` (plain or international) that differs from it: a marriage, a correction. */
export function newSurname(random: RandomStream, current: string): string {
  for (;;) {
    const candidate = isInternationalName(current) ? internationalName(random).surname : plainName(random).surname;
    if (candidate !== current) return candidate;
  }
}

/** The name someone goes by: a short form where there is a common one, another given name otherwise. */
export function preferredNameFor(random: RandomStream, givenName: string): string {
  const short = NICKNAMES[givenName];
  if (short) return short;
  for (;;) {
    const candidate = plainName(random).givenName;
    if (candidate !== givenName) return candidate;
  }
}
