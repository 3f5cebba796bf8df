import type { IncomingMessage } from 'node:http';
import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { AllExceptionsFilter } from '../http/all-exceptions.filter';
import { CORRELATION_HEADER, correlationIdFor } from '../http/correlation';
import { createValidationPipe } from '../http/validation.pipe';
import { ServiceMetrics } from '../observability/metrics';
import { PinoNestLogger } from '../observability/nest-logger';
import type { ServiceDefinition } from './service-definition';

/**
 * Builds a service's Nest application on Fastify with the platform's cross-cutting parts:
 * correlation ids, request logs without bodies, metrics, validation, the error shape and OpenAPI.
 */
export async function createServiceApp(
  appModule: DynamicModule,
  definition: ServiceDefinition,
  logger: Logger,
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    genReqId: (request: IncomingMessage) => correlationIdFor(request.headers[CORRELATION_HEADER]),
    requestIdHeader: false,
    // Above the largest valid body, so an oversized field gets a 400 naming it rather than a 413.
    bodyLimit: 2 * 1024 * 1024,
  });
  const app = await NestFactory.create<NestFastifyApplication>(appModule, adapter, {
    logger: new PinoNestLogger(logger),
    abortOnError: false,
  });
  const metrics = app.get(ServiceMetrics);
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', async (request, reply) => {
    void reply.header(CORRELATION_HEADER, request.id);
  });
  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions?.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.httpDuration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      seconds,
    );
    if (route === '/metrics' || route.startsWith('/health')) return;
    logger.info(
      {
        correlationId: request.id,
        method: request.method,
        route,
        statusCode: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
        userId: userIdOf(request),
      },
      'request',
    );
  });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new AllExceptionsFilter(logger));

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(definition.title)
      .setDescription(definition.description)
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .addSecurityRequirements('bearer')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  await app.init();
  await fastify.ready();
  return app;
}

function userIdOf(request: FastifyRequest): string | undefined {
  return (request as FastifyRequest & { user?: { userId?: string } }).user?.userId;
}
