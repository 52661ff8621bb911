import { Controller, Get } from '@nestjs/common';
import { z } from 'zod';
import { ApiRoute } from '../http/route-contract';
import { LicenseResponseDto } from './dto/license-response.dto';
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
  constructor(private readonly license: LicenseService) {}

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
}
