import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { Public } from '../auth/decorators/auth.decorators';

export class LivenessResponse {
  @ApiProperty({ enum: ['ok'] }) status: 'ok';
}

export class HealthResponse {
  @ApiProperty({ enum: ['ok', 'error'] }) status: 'ok' | 'error';
  @ApiProperty({ enum: ['up', 'down'] }) database: 'up' | 'down';
}

@ApiTags('Health')
@Controller('api/health')
export class HealthController {
  constructor(private readonly dataSource: DataSource) {}

  /** Liveness without touching the database (for probes, and the benchmark's baseline). */
  @Get('live')
  @Public()
  @ApiOperation({ operationId: 'getLiveness', summary: 'Liveness only: the process answers (public, no database)' })
  @ApiOkResponse({ type: LivenessResponse })
  live(): LivenessResponse {
    return { status: 'ok' };
  }

  @Get()
  @Public()
  @ApiOperation({ operationId: 'getHealth', summary: 'Liveness and database reachability (public)' })
  @ApiOkResponse({ type: HealthResponse, example: { status: 'ok', database: 'up' } })
  // Not a problem: load balancers and probes read the same body either way.
  @ApiServiceUnavailableResponse({
    description: 'The database does not answer.',
    type: HealthResponse,
    example: { status: 'error', database: 'down' },
  })
  async health(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthResponse> {
    const up = await Promise.race([
      this.dataSource.query('SELECT 1').then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => setTimeout(resolve, 2000, false).unref()),
    ]);
    reply.header('cache-control', 'no-store');
    if (!up) reply.status(503);
    return { status: up ? 'ok' : 'error', database: up ? 'up' : 'down' };
  }
}
