import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/roles.decorator';
import { DomainError } from '../http/domain-error';
import { TransportService } from '../service/transport.service';
import { ServiceMetrics } from './metrics';

/** Liveness, readiness and Prometheus metrics; open to the platform without a token. */
@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(
    private readonly transport: TransportService,
    @Inject(ServiceMetrics) private readonly metrics: ServiceMetrics,
  ) {}

  @Public()
  @Get('health/live')
  // The document requires a bearer token everywhere by default; probes are the exception.
  @ApiOperation({ summary: 'Liveness', security: [] })
  @ApiOkResponse({ description: 'The process is running.' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Public()
  @Get('health/ready')
  @ApiOperation({ summary: 'Readiness', security: [] })
  @ApiOkResponse({ description: 'The database and the event transport are reachable.' })
  async ready(): Promise<{ status: 'ready'; checks: Record<string, 'up'> }> {
    const problems = await this.transport.readinessProblems();
    if (problems.length > 0) {
      throw new DomainError(
        'NOT_READY',
        `Not ready: ${problems.map((p) => p.field).join(', ')} unavailable.`,
        'unavailable',
        problems,
      );
    }
    return { status: 'ready', checks: { database: 'up', transport: 'up' } };
  }

  @Public()
  @Get('metrics')
  @ApiExcludeEndpoint()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
