/** Fixed word lists the generator draws from; faker's own lists cover names and job titles. */

/** Where the CEO sits: always the smallest department, so it never dominates a Zipf series. */
export const EXECUTIVE_OFFICE = 'Executive Office';

/**
 * Corporate functions. Beyond these, departments get a regional suffix, then a
 * number. `&` and `/` are on purpose: they need escaping in LDAP DNs and XML.
 */
export const DEPARTMENT_NAMES: readonly string[] = [
  'Engineering',
  'Sales',
  'Marketing',
  'Finance',
  'Human Resources',
  'Legal',
  'Operations',
  'Customer Support',
  'IT',
  'Facilities',
  'Procurement',
  'Research & Development',
  'Product Management',
  'Design',
  'Information Security',
  'Data & Analytics',
  'Quality Assurance',
  'Logistics',
  'Manufacturing',
  'Communications',
  'Compliance',
  'Internal Audit',
  'Risk',
  'Treasury',
  'Strategy',
  'Partnerships',
  'Learning & Development',
  'Field Services',
  'Business Development',
  'Public Relations',
  'Payroll',
  'Tax',
  'Investor Relations',
  'Sales Operations',
  'Site Reliability',
  'Customer Success',
  'Health & Safety',
  'Real Estate',
  'Supply Chain',
  'Pricing',
];

export const REGIONS: readonly string[] = ['EMEA', 'Americas', 'APAC', 'DACH', 'Nordics', 'Iberia', 'UK/IE', 'LATAM'];

/** An office and the shape of its mobile numbers (E.164: calling code, then a national number of `digits`). */
export interface Office {
  name: string;
  country: string;
  callingCode: string;
  /** The first digits of a mobile number after the calling code. */
  mobilePrefixes: readonly string[];
  /** Digits after the calling code, prefix included. */
  digits: number;
}

/** Largest first: locations are Zipf-weighted in this order. Several have diacritics. */
export const OFFICES: readonly Office[] = [
  { name: 'New York', country: 'US', callingCode: '1', mobilePrefixes: ['212', '347', '646', '917'], digits: 10 },
  { name: 'London', country: 'GB', callingCode: '44', mobilePrefixes: ['74', '75', '77', '78', '79'], digits: 10 },
  { name: 'München', country: 'DE', callingCode: '49', mobilePrefixes: ['151', '160', '170', '176'], digits: 11 },
  { name: 'São Paulo', country: 'BR', callingCode: '55', mobilePrefixes: ['119'], digits: 11 },
  { name: 'Bengaluru', country: 'IN', callingCode: '91', mobilePrefixes: ['98', '97', '90', '88'], digits: 10 },
  { name: 'Remote', country: 'US', callingCode: '1', mobilePrefixes: ['415', '503', '720', '512'], digits: 10 },
  { name: 'Zürich', country: 'CH', callingCode: '41', mobilePrefixes: ['76', '78', '79'], digits: 9 },
  { name: 'Paris', country: 'FR', callingCode: '33', mobilePrefixes: ['6', '7'], digits: 9 },
  { name: 'Kraków', country: 'PL', callingCode: '48', mobilePrefixes: ['50', '60', '69', '88'], digits: 9 },
  { name: 'Montréal', country: 'CA', callingCode: '1', mobilePrefixes: ['438', '514'], digits: 10 },
  { name: 'Madrid', country: 'ES', callingCode: '34', mobilePrefixes: ['6', '7'], digits: 9 },
  { name: 'Dublin', country: 'IE', callingCode: '353', mobilePrefixes: ['83', '85', '86', '87'], digits: 9 },
  { name: 'Singapore', country: 'SG', callingCode: '65', mobilePrefixes: ['8', '9'], digits: 8 },
  { name: 'Sydney', country: 'AU', callingCode: '61', mobilePrefixes: ['4'], digits: 9 },
  { name: 'Tokyo', country: 'JP', callingCode: '81', mobilePrefixes: ['70', '80', '90'], digits: 10 },
];

/** Given name → the short form people go by. Others get another given name as their preferred name. */
export const NICKNAMES: Readonly<Record<string, string>> = {
  Alexander: 'Alex',
  Andrew: 'Andy',
  Anthony: 'Tony',
  Benjamin: 'Ben',
  Catherine: 'Cathy',
  Christopher: 'Chris',
  Daniel: 'Dan',
  Deborah: 'Debbie',
  Elizabeth: 'Liz',
  Gregory: 'Greg',
  James: 'Jim',
  Jennifer: 'Jen',
  Jonathan: 'Jon',
  Joseph: 'Joe',
  Katherine: 'Kate',
  Margaret: 'Maggie',
  Matthew: 'Matt',
  Michael: 'Mike',
  Nicholas: 'Nick',
  Patricia: 'Pat',
  Rebecca: 'Becky',
  Richard: 'Rick',
  Robert: 'Bob',
  Samantha: 'Sam',
  Stephanie: 'Steph',
  Thomas: 'Tom',
  Timothy: 'Tim',
  Victoria: 'Vicky',
  William: 'Bill',
};

/** Apostrophe surnames faker's lists hold too few of; each breaks a naive quote or an LDAP filter. */
export const APOSTROPHE_SURNAMES: readonly string[] = [
  "O'Brien",
  "O'Neill",
  "O'Sullivan",
  "O'Connor",
  "D'Souza",
  "D'Arcy",
  "N'Diaye",
  "Dell'Acqua",
  "L'Heureux",
  "D'Agostino",
  "O'Hara",
];
