import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Public } from '../auth/decorators/auth.decorators';

/** The project's package.json, found upwards from here (source and build sit at different depths). */
function projectVersion(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'api-key-service') return pkg.version ?? 'unknown';
  }
  return 'unknown';
}

const VERSION = projectVersion();

/**
 * Which build answers (for clients and support). Public, and unlike /api/health* it goes
 * through the access log like every API route: the benchmark's like-for-like baseline.
 */
@ApiTags('Health')
@Controller('api/version')
export class VersionController {
  @Get()
  @Public()
  @ApiOperation({ summary: 'The service and API version (public)' })
  @ApiOkResponse({ schema: { example: { service: 'api-key-service', version: '0.1.0', api: '1.0' } } })
  version(): { service: string; version: string; api: string } {
    return { service: 'api-key-service', version: VERSION, api: '1.0' };
  }
}
