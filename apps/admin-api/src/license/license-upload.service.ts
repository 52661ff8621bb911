import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { AuditRepository, TransactionRunner } from '@identitymesh/persistence';
import { LicenseMonitor, verifyLicense } from '@identitymesh/license';
import { auditEntry } from '../audit/audit-entry';
import type { Principal } from '../auth/principal';
import { LicenseResponseDto } from './dto/license-response.dto';
import { LicenseService } from './license.service';

/** A license file is a few hundred bytes; anything near this bound is not one. */
export const LICENSE_UPLOAD_MAX_BYTES = 64 * 1024;

/**
 * `POST /api/license/upload`: a license file checked exactly as the apps
 * check the installed one (format, trusted key, signature, dates) before it
 * replaces IM_LICENSE_FILE. The engine and this API pick the new file up
 * at their next look, without a restart.
 */
@Injectable()
export class LicenseUploadService {
  constructor(
    private readonly monitor: LicenseMonitor,
    private readonly license: LicenseService,
    private readonly audit: AuditRepository,
    private readonly transactions: TransactionRunner,
  ) {}

  /** @throws LicenseError (422 `license-invalid`) naming the check that failed; the installed file is then untouched. */
  async upload(file: Buffer, principal: Principal): Promise<LicenseResponseDto> {
    const at = new Date();
    const payload = verifyLicense(file.toString('utf8'), this.monitor.settings.trustedKeys, at);
    const before = this.license.describe();
    await this.transactions.run(async (tx) => {
      await this.audit.record(tx, [
        auditEntry(principal, 'license.upload', { type: 'license', id: payload.licenseId }, { before: auditView(before), after: { licenseId: payload.licenseId, customer: payload.customer, evaluation: payload.evaluation, issuedAt: payload.issuedAt, expiresAt: payload.expiresAt, limits: payload.limits, keyId: payload.keyId, file: before.file } }, at),
      ]);
      // Last in the transaction: a file that cannot be written rolls the audit entry back, and the entry commits only for a replaced file.
      await replaceFile(this.monitor.settings.file, file);
    });
    return this.license.describe();
  }
}

/** The license as the audit log keeps it: what it was, not the signature. */
function auditView(license: LicenseResponseDto): Record<string, unknown> {
  return { status: license.status, code: license.code, licenseId: license.licenseId, customer: license.customer, expiresAt: license.expiresAt, keyId: license.keyId, file: license.file };
}

/**
 * Writes `bytes` to a new file beside `target` and renames it over `target`:
 * a reader sees the old license or the new one, never half a file, and a
 * failed write leaves the old one in place.
 */
async function replaceFile(target: string, bytes: Buffer): Promise<void> {
  const directory = dirname(target);
  await mkdir(directory, { recursive: true });
  const temporary = join(directory, `.${basename(target)}.${randomUUID()}.tmp`);
  try {
    const handle = await open(temporary, 'wx', 0o644);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
