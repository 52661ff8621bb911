import { createPublicKey, KeyObject, randomUUID, sign, verify } from 'node:crypto';
import { LicenseError } from './license.errors';
import { keyIdOf, TrustedKey } from './trusted-keys';

/**
 * A license file is three lines of text:
 *
 * ```
 * IdentityMesh license v1
 * {"licenseId":"…","customer":"Contoso","issuedAt":"…","expiresAt":"…","limits":{"connectors":10,"objects":null},"evaluation":false,"keyId":"3f2a…"}
 * signature: <base64 Ed25519 signature of the exact bytes of line 2>
 * ```
 *
 * The signature covers the payload line byte for byte, so verifying never
 * depends on how a JSON library orders keys or spaces; an operator can read
 * the line, and any edit to it breaks the signature.
 */
export const LICENSE_HEADER = 'IdentityMesh license v1';
const HEADER_PATTERN = /^IdentityMesh license v(\S+)$/i;
const SIGNATURE_PREFIX = 'signature: ';
const ED25519_SIGNATURE_BYTES = 64;

/** Clocks of the vendor's and the customer's hosts may differ a little; a license issued "now" must not be refused for it. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** What a license grants. `null` means no limit. */
export interface LicenseLimits {
  connectors: number | null;
  objects: number | null;
}

/** The signed content of a license file. */
export interface LicensePayload {
  licenseId: string;
  customer: string;
  /** ISO-8601 UTC; the license is valid from here. */
  issuedAt: string;
  /** ISO-8601 UTC; the license is valid until here. */
  expiresAt: string;
  limits: LicenseLimits;
  /** An evaluation license: the product runs, and says so in its logs. */
  evaluation: boolean;
  /** {@link keyIdOf} the key that signed it. */
  keyId: string;
}

/** A license file split into its parts, signature not checked. */
export interface ParsedLicense {
  payload: LicensePayload;
  payloadLine: string;
  signature: Buffer;
}

export interface IssueLicenseOptions {
  /** The vendor's Ed25519 private key. */
  privateKey: KeyObject;
  customer: string;
  issuedAt: Date;
  expiresAt: Date;
  /** @default no limit on either */
  limits?: Partial<LicenseLimits>;
  /** @default false */
  evaluation?: boolean;
  /** @default a random UUID */
  licenseId?: string;
}

/** Writes a signed license file (its full text). */
export function issueLicense(options: IssueLicenseOptions): string {
  if (options.privateKey.type !== 'private' || options.privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error('issuing needs an Ed25519 private key');
  }
  if (!options.customer.trim()) throw new Error('the customer name is empty');
  if (!(options.expiresAt.getTime() > options.issuedAt.getTime())) throw new Error('the license must expire after it is issued');
  for (const [name, value] of Object.entries(options.limits ?? {})) {
    if (value !== null && value !== undefined && !(Number.isInteger(value) && value > 0)) throw new Error(`the ${name} limit must be a whole number above 0`);
  }
  // Fixed key order: the line is written once and then only ever compared byte for byte.
  const payload: LicensePayload = {
    licenseId: options.licenseId ?? randomUUID(),
    customer: options.customer.trim(),
    issuedAt: options.issuedAt.toISOString(),
    expiresAt: options.expiresAt.toISOString(),
    limits: { connectors: options.limits?.connectors ?? null, objects: options.limits?.objects ?? null },
    evaluation: options.evaluation ?? false,
    keyId: keyIdOf(createPublicKey(options.privateKey)),
  };
  const payloadLine = JSON.stringify(payload);
  const signature = sign(null, Buffer.from(payloadLine, 'utf8'), options.privateKey);
  return `${LICENSE_HEADER}\n${payloadLine}\n${SIGNATURE_PREFIX}${signature.toString('base64')}\n`;
}

/**
 * Splits a license file into payload and signature and checks the payload's
 * shape, without checking the signature (what `license show` prints).
 * Throws LICENSE_MALFORMED saying what is wrong.
 */
export function parseLicense(text: string): ParsedLicense {
  // Tolerate what editors and mail do to text files: a BOM, CRLF, blank or indented lines.
  const lines = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.length === 0) throw malformed('the file is empty');
  const header = HEADER_PATTERN.exec(lines[0]);
  if (!header) throw malformed(`the first line is not "${LICENSE_HEADER}": this is not an IdentityMesh license file`);
  if (header[1] !== '1') throw malformed(`the file is in format v${header[1]}, which this version does not understand (it reads v1)`);
  if (lines.length === 1) throw malformed('the file ends after the header line: the payload and the signature are missing (truncated?)');
  if (lines.length === 2) throw malformed('the file has no signature line: it is truncated');
  if (lines.length > 3) throw malformed(`the file has ${lines.length - 3} unexpected line(s) after the signature`);
  const [, payloadLine, signatureLine] = lines;
  if (!signatureLine.startsWith(SIGNATURE_PREFIX)) throw malformed(`the third line must be "${SIGNATURE_PREFIX}<base64>"`);
  const signatureText = signatureLine.slice(SIGNATURE_PREFIX.length).trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signatureText)) throw malformed('the signature is not base64');
  const signature = Buffer.from(signatureText, 'base64');
  if (signature.length !== ED25519_SIGNATURE_BYTES) {
    throw malformed(`the signature is ${signature.length} bytes, an Ed25519 signature is ${ED25519_SIGNATURE_BYTES} (truncated?)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(payloadLine);
  } catch (error) {
    throw malformed(`the payload line is not valid JSON (truncated or edited?): ${(error as Error).message}`);
  }
  return { payload: checkPayloadShape(json), payloadLine, signature };
}

/**
 * Checks that the license is signed by one of the trusted keys and that its
 * payload is exactly what was signed. Does not look at the dates.
 */
export function verifyLicenseSignature(text: string, trustedKeys: readonly TrustedKey[]): LicensePayload {
  const { payload, payloadLine, signature } = parseLicense(text);
  const key = trustedKeys.find((k) => k.keyId === payload.keyId);
  if (!key) {
    const trusted = trustedKeys.length === 0 ? 'no key is trusted (none configured)' : `the trusted key(s) are ${trustedKeys.map((k) => k.keyId).join(', ')}`;
    throw new LicenseError('LICENSE_UNTRUSTED_KEY', `the license is signed by key ${payload.keyId}, which is not trusted here; ${trusted}`);
  }
  if (!verify(null, Buffer.from(payloadLine, 'utf8'), key.publicKey, signature)) {
    throw new LicenseError(
      'LICENSE_SIGNATURE_INVALID',
      `the signature does not match the license's content for key ${key.keyId}: the license was altered after it was issued, or forged`,
    );
  }
  return payload;
}

/** Throws LICENSE_EXPIRED or LICENSE_NOT_YET_VALID when `now` is outside the license's dates. */
export function checkLicenseDates(payload: LicensePayload, now: Date): void {
  if (now.getTime() > Date.parse(payload.expiresAt)) {
    throw new LicenseError('LICENSE_EXPIRED', `${describeLicense(payload)} expired on ${payload.expiresAt}`, payload);
  }
  if (now.getTime() < Date.parse(payload.issuedAt) - CLOCK_SKEW_MS) {
    throw new LicenseError(
      'LICENSE_NOT_YET_VALID',
      `${describeLicense(payload)} is valid from ${payload.issuedAt}, and this host's clock says ${now.toISOString()}`,
      payload,
    );
  }
}

/**
 * The whole check: format, trusted key, signature, dates. Returns the payload
 * of a usable license or throws a {@link LicenseError} whose code says which
 * check failed.
 */
export function verifyLicense(text: string | undefined, trustedKeys: readonly TrustedKey[], now: Date): LicensePayload {
  if (text === undefined) throw new LicenseError('LICENSE_MISSING', 'there is no license file');
  const payload = verifyLicenseSignature(text, trustedKeys);
  checkLicenseDates(payload, now);
  return payload;
}

/** `license 1c9e… for "Contoso"` */
export function describeLicense(payload: LicensePayload): string {
  return `${payload.evaluation ? 'evaluation license' : 'license'} ${payload.licenseId} for "${payload.customer}"`;
}

function malformed(problem: string): LicenseError {
  return new LicenseError('LICENSE_MALFORMED', `the license file is malformed: ${problem}`);
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

function checkPayloadShape(json: unknown): LicensePayload {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw malformed('the payload line is not a JSON object');
  const p = json as Record<string, unknown>;
  const text = (field: string) => {
    if (typeof p[field] !== 'string' || !(p[field] as string).trim()) throw malformed(`the payload field "${field}" must be a non-empty string`);
    return p[field] as string;
  };
  const instant = (field: string) => {
    const value = text(field);
    if (!ISO_UTC.test(value) || Number.isNaN(Date.parse(value))) throw malformed(`the payload field "${field}" must be an ISO-8601 UTC time (got "${value}")`);
    return value;
  };
  const limits = p['limits'];
  if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) throw malformed('the payload field "limits" must be an object');
  const limit = (name: keyof LicenseLimits) => {
    const value = (limits as Record<string, unknown>)[name];
    if (value === null) return null;
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw malformed(`the payload field "limits.${name}" must be a whole number above 0 or null`);
    return value;
  };
  if (typeof p['evaluation'] !== 'boolean') throw malformed('the payload field "evaluation" must be true or false');
  const keyId = text('keyId');
  if (!/^[0-9a-f]{16}$/.test(keyId)) throw malformed(`the payload field "keyId" must be 16 hex digits (got "${keyId}")`);
  return {
    licenseId: text('licenseId'),
    customer: text('customer'),
    issuedAt: instant('issuedAt'),
    expiresAt: instant('expiresAt'),
    limits: { connectors: limit('connectors'), objects: limit('objects') },
    evaluation: p['evaluation'],
    keyId,
  };
}
