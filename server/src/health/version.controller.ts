import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
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

/** The API's version: `api` here and `info.version` in the OpenAPI document. */
export const API_VERSION = '1.0';

export class VersionResponse {
  @ApiProperty({ example: 'api-key-service' }) service: string;
  @ApiProperty({ example: '0.1.0', description: "The build's version (package.json)." }) version: string;
  @ApiProperty({ example: '1.0', description: "The API's version, as in this document's `info.version`." }) api: string;
}

/**
 * Which build answers (for clients and support). Public, and unlike /api/health* it goes
 * through the access log like every API route: the benchmark's like-for-like baseline.
 */
@ApiTags('Health')
@Controller('api/version')
export class VersionController {
  @Get()
  @Public()
  @ApiOperation({ operationId: 'getVersion', summary: 'The service and API version (public)' })
  @ApiOkResponse({ type: VersionResponse })
  version(): VersionResponse {
    return { service: 'api-key-service', version: VERSION, api: API_VERSION };
  }
}
