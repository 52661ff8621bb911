import { Controller, Get } from '@nestjs/common';
import { LicenseResponseDto } from './dto/license-response.dto';
import { LicenseService } from './license.service';

// No authentication yet: it arrives for every /api route with the Admin API security work.
@Controller('api/license')
export class LicenseController {
  constructor(private readonly license: LicenseService) {}

  @Get()
  get(): LicenseResponseDto {
    return this.license.describe();
  }
}
