import 'reflect-metadata';
import { runMigrationsCli } from '#common';
import { SharingGatewayEnv, environment } from './config/env';
import { SharingGatewayDefinition } from './sharing-gateway.definition';

void runMigrationsCli(SharingGatewayDefinition, SharingGatewayEnv, environment());
