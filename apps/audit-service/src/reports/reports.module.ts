import { Module } from '@nestjs/common';
import { ConfidentialityController } from './confidentiality/confidentiality.controller';
import { InformationFlowsController } from './information-flows/information-flows.controller';
import { RecertificationController } from './recertification/recertification.controller';
import { StaffSubjectsController } from './registers/staff-subjects.controller';
import { SurnameKey } from './registers/surname-key';
import { SurnamesController } from './registers/surnames.controller';
import { ReportSettings } from './report-settings';

/** IG reports read from the log: confidentiality audit, information flows, recertification. */
@Module({
  controllers: [
    ConfidentialityController,
    InformationFlowsController,
    RecertificationController,
    StaffSubjectsController,
    SurnamesController,
  ],
  providers: [ReportSettings, SurnameKey],
})
export class ReportsModule {}
