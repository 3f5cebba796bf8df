import 'reflect-metadata';
import { runMigrationsCli } from '#common';
import { AuditServiceEnv, environment } from './config/env';
import { AuditServiceDefinition } from './audit-service.definition';

void runMigrationsCli(AuditServiceDefinition, AuditServiceEnv, environment());
