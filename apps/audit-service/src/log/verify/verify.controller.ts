import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '#common';
import { LogVerifier, type VerifyResult } from './log-verifier';

@ApiTags('audit log')
@Controller('v1/audit/verify')
export class VerifyController {
  constructor(private readonly verifier: LogVerifier) {}

  @Post()
  @HttpCode(200)
  @Roles('ig_officer')
  @ApiOkResponse({ description: '`{ok, checked, firstBadSeq?, problem?}`' })
  verify(): Promise<VerifyResult> {
    return this.verifier.verify();
  }
}
