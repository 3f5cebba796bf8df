import 'reflect-metadata';
import { runMigrationsCli } from '#common';
import { ConsentServiceEnv, environment } from './config/env';
import { ConsentServiceDefinition } from './consent-service.definition';

void runMigrationsCli(ConsentServiceDefinition, ConsentServiceEnv, environment());
