import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { RateLimitGuard } from '../http/rate-limit.guard';
import { ApiRoute } from '../http/route-contract';
import { LicenseResponseDto } from './dto/license-response.dto';
import { LICENSE_UPLOAD_MAX_BYTES, LicenseUploadService } from './license-upload.service';
import { LicenseService } from './license.service';

const licenseResponse = z
  .object({
    status: z.enum(['valid', 'expired', 'missing', 'invalid']),
    code: z.string().nullable(),
    reason: z.string(),
    remedy: z.string().nullable(),
    evaluation: z.boolean(),
    customer: z.string().nullable(),
    licenseId: z.string().nullable(),
    issuedAt: z.string().nullable(),
    expiresAt: z.string().nullable(),
    limits: z.record(z.string(), z.number().nullable()).nullable(),
    keyId: z.string().nullable(),
    trustedKeyIds: z.array(z.string()),
    file: z.string(),
    checkedAt: z.string(),
  })
  .meta({ id: 'License' });

@Controller('api/license')
export class LicenseController {
  constructor(
    private readonly license: LicenseService,
    private readonly uploads: LicenseUploadService,
  ) {}

  @Get()
  @ApiRoute({
    summary: 'The current license: customer, expiry, limits (no signature material)',
    tag: 'license',
    access: { permission: 'dashboard.read' },
    responses: { 200: { description: 'The license and its state', schema: licenseResponse } },
  })
  get(): LicenseResponseDto {
    return this.license.describe();
  }

  @Post('upload')
  @HttpCode(200)
  @UseGuards(RateLimitGuard)
  @ApiRoute({
    summary: 'Install a license file',
    description:
      'The body is the license file exactly as the vendor issued it. It is checked (format, a trusted signing key, signature, dates) before it replaces the current license file (IM_LICENSE_FILE) in one rename; a license that fails a check is answered with 422 `license-invalid` naming the reason (`LICENSE_SIGNATURE_INVALID`, `LICENSE_EXPIRED`, …) and the current license stays as it was.',
    tag: 'license',
    access: { permission: 'license.write' },
    rawBody: { contentTypes: ['application/octet-stream', 'text/plain'], maxBytes: LICENSE_UPLOAD_MAX_BYTES, description: 'The license file (license.key)' },
    rateLimit: { requests: 30, perSeconds: 60 },
    responses: { 200: { description: 'The license now installed', schema: licenseResponse } },
  })
  upload(@Body() file: Buffer, @CurrentPrincipal() principal: Principal): Promise<LicenseResponseDto> {
    return this.uploads.upload(file, principal);
  }
}
