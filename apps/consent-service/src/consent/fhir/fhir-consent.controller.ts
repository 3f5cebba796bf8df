import { BadRequestException, Controller, Get, Header, Query } from '@nestjs/common';
import { ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CurrentUser, isValidNhsNumber, Roles, STAFF_ROLES, type AuthenticatedUser } from '#common';
import { assertMayAct } from '../http/write-context';
import { ConsentStreamService } from '../stream/consent-stream.service';
import { consentBundle } from './fhir-consent.mapper';

/** Reads `patient=9434765919` or `patient=https://fhir.nhs.uk/Id/nhs-number|9434765919`. */
function nhsNumberOf(patient: string | undefined): string {
  const value = patient?.includes('|') ? patient.split('|')[1] : patient;
  if (!isValidNhsNumber(value)) {
    throw new BadRequestException({
      error: 'VALIDATION_FAILED',
      message: 'The request is invalid: patient.',
      details: [{ field: 'patient', problem: 'patient must be a valid NHS number' }],
    });
  }
  return value;
}

/** Consent records for shared care records that read FHIR R4. */
@ApiTags('fhir')
@Controller('fhir')
export class FhirConsentController {
  constructor(private readonly stream: ConsentStreamService) {}

  @Get('Consent')
  @Roles(...STAFF_ROLES, 'system', 'service_user')
  @Header('content-type', 'application/fhir+json; charset=utf-8')
  @ApiQuery({ name: 'patient', required: true, description: 'NHS number' })
  @ApiOkResponse({ description: 'A searchset Bundle of FHIR R4 Consent resources.' })
  async search(
    @Query('patient') patient: string | undefined,
    @CurrentUser() user: AuthenticatedUser,
  ) {
    const subjectId = nhsNumberOf(patient);
    assertMayAct(user, subjectId);
    return consentBundle(await this.stream.current(subjectId), new Date());
  }
}
