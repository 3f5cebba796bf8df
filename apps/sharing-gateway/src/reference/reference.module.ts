import { Module } from '@nestjs/common';
import { AccessGrantsController } from './access-grants/access-grants.controller';
import { AgreementsController } from './agreements/agreements.controller';
import { OrganisationsController } from './organisations/organisations.controller';
import { ReferenceStore } from './reference-store';
import { RelationshipsController } from './relationships/relationships.controller';
import { UsersController } from './users/users.controller';

/** Organisations, users, agreements, relationships and access grants: every change audited. */
@Module({
  controllers: [
    OrganisationsController,
    UsersController,
    AgreementsController,
    RelationshipsController,
    AccessGrantsController,
  ],
  providers: [ReferenceStore],
})
export class ReferenceModule {}
