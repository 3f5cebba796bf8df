import { Module } from '@nestjs/common';
import { ConsentsController } from './consents/consents.controller';
import { FhirConsentController } from './fhir/fhir-consent.controller';
import { ObjectionsController } from './objections/objections.controller';
import { PreferencesController } from './preferences/preferences.controller';
import { ProxiesController } from './proxies/proxies.controller';
import { ConsentStateController } from './queries/consent-state.controller';
import { ConsentStreamService } from './stream/consent-stream.service';

/** People's consent records: commands on their streams and queries of their state. */
@Module({
  controllers: [
    ConsentsController,
    ObjectionsController,
    PreferencesController,
    ProxiesController,
    ConsentStateController,
    FhirConsentController,
  ],
  providers: [ConsentStreamService],
  exports: [ConsentStreamService],
})
export class ConsentModule {}
