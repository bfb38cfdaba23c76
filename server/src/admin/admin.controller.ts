import { Readable } from 'node:stream';
import { Body, Controller, Delete, Get, HttpCode, Module, Param, Post, Put, Query, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { KeyUsageResponse, KeyUsageService } from '../api-keys/key-usage.service';
import { CurrentActor, RequireAdmin, RequireScopes } from '../auth/decorators/auth.decorators';
import { auditEventResponse } from '../audit/audit.controller';
import { IdPipe } from '../common/id.pipe';
import { ApiProblem } from '../common/problem';
import { ApiBodyProblemResponses, ApiProblemResponse } from '../common/problem.dto';
import { CredentialsModule } from '../credentials/credentials.module';
import { KeyPolicyService } from '../credentials/key-policy.service';
import { DatabaseModule } from '../database/database.module';
import type { AuditActor, AuditEventRow } from '../database/repositories/audit-events.repository';
import { AdminService, policyResponse } from './admin.service';
import {
  AdminApiKeyPage,
  AdminAuditEventPage,
  AdminAuditPageQuery,
  AdminAuditQuery,
  AdminKeyPolicyResponse,
  AdminKeysQuery,
  AdminOverview,
  AdminRevokeResponse,
  BulkRevokeRequest,
  BulkRevokeResponse,
  KeyPolicyBody,
  KeyPolicyResponse,
  RevokeReason,
} from './dto/admin.dto';

const DEFAULT_AUDIT_PAGE = 50;
const CSV_BATCH = 500;

const CSV_COLUMNS = [
  'id',
  'occurred_at',
  'type',
  'actor_user_id',
  'actor_auth_type',
  'actor_key_id',
  'subject_user_id',
  'key_id',
  'key_name',
  'key_hint',
  'client_address',
  'user_agent',
  'request_id',
  'details',
] as const;

/**
 * One CSV cell (RFC 4180), safe to open in a spreadsheet: text starting with = + - @ (or a tab or
 * carriage return) is prefixed with ' so it is never read as a formula; cells holding a comma,
 * quote or line break are quoted, quotes doubled.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  // Every non-empty cell quoted: a spreadsheet that splits on ";" (de, fr locales) must not
  // turn "name;=cmd" into a cell of its own that starts with "=".
  return text === '' ? '' : `"${text.replace(/"/g, '""')}"`;
}

function csvRow(row: AuditEventRow): string {
  const event = { ...auditEventResponse(row), subject_user_id: row.subject_user_id };
  return `${CSV_COLUMNS.map((column) => csvCell(event[column])).join(',')}\r\n`;
}

const READ_PROBLEMS = 'A filter or the page size is not valid (each field listed in `errors`).';

@ApiTags('Administration')
@Controller('api/admin')
export class AdminController {
  constructor(
    private readonly admin: AdminService,
    private readonly usage: KeyUsageService,
  ) {}

  @Get('keys')
  @RequireAdmin('read')
  @ApiOperation({
    operationId: 'adminListApiKeys',
    summary: "Every user's keys (not revoked), with their owners; cursor-paginated, with the total",
    description: 'Newest first (`sort=created_at`, the default) or most recently used first (`sort=last_used_at`, never-used keys last).',
  })
  @ApiOkResponse({ type: AdminApiKeyPage })
  @ApiProblemResponse(400, '`after` is not a cursor this API issued for this sort.', ['invalid_cursor'])
  @ApiProblemResponse(422, READ_PROBLEMS, ['validation_failed'])
  listKeys(@Query() query: AdminKeysQuery): Promise<AdminApiKeyPage> {
    return this.admin.listKeys(query);
  }

  @Delete('keys/:id')
  @HttpCode(200)
  @RequireAdmin('write')
  @ApiOperation({
    operationId: 'adminRevokeApiKey',
    summary: "Revoke anyone's key, with a reason; it stops working at once on every instance",
    description: 'Recorded as `api_key.revoked` (actor: the admin; subject: the owner and the key; details: `{reason, by_admin: true}`).',
  })
  @ApiParam({ name: 'id', schema: { type: 'integer', minimum: 1, maximum: 2147483647 }, description: "The key's `id`" })
  @ApiOkResponse({ type: AdminRevokeResponse })
  @ApiBodyProblemResponses()
  @ApiProblemResponse(404, 'No active key with this id.', ['api_key_not_found'])
  @ApiProblemResponse(422, '`reason` is missing, empty or longer than 500 characters.', ['validation_failed'])
  revoke(@Param('id', IdPipe) id: number, @Body() body: RevokeReason, @CurrentActor() actor: AuditActor): Promise<AdminRevokeResponse> {
    return this.admin.revoke(id, body.reason, actor);
  }

  @Post('keys/revoke')
  @HttpCode(200)
  @RequireAdmin('write')
  @ApiOperation({
    operationId: 'adminRevokeApiKeys',
    summary: 'Revoke up to 100 keys of anyone at once, with one reason',
    description: 'One transaction; each key gets its own `api_key.revoked` event. Ids with no active key are listed in `not_found`.',
  })
  @ApiOkResponse({ type: BulkRevokeResponse })
  @ApiBodyProblemResponses()
  @ApiProblemResponse(422, '`ids` (1 to 100 distinct positive integers) or `reason` (1 to 500 characters) is not valid.', [
    'validation_failed',
  ])
  revokeBulk(@Body() body: BulkRevokeRequest, @CurrentActor() actor: AuditActor): Promise<BulkRevokeResponse> {
    return this.admin.revokeBulk(body.ids, body.reason, actor);
  }

  @Get('audit-events')
  @RequireAdmin('read')
  @ApiOperation({
    operationId: 'adminListAuditEvents',
    summary: 'The whole audit log (every user), newest first; cursor-paginated',
    description:
      '`user` matches the subject or the actor (a user id or a known username). The same filter as CSV: `/api/admin/audit-events.csv`.',
  })
  @ApiOkResponse({ type: AdminAuditEventPage })
  @ApiProblemResponse(422, READ_PROBLEMS, ['validation_failed'])
  async listAudit(@Query() query: AdminAuditPageQuery): Promise<AdminAuditEventPage> {
    const { limit, after, ...rest } = query;
    const size = limit ?? DEFAULT_AUDIT_PAGE;
    const filter = await this.admin.auditFilter(rest);
    const rows = await this.admin.listAudit(filter, after, size + 1);
    const items = rows.slice(0, size).map((row) => ({ ...auditEventResponse(row), subject_user_id: row.subject_user_id }));
    return { items, next_cursor: rows.length > size ? String(items[items.length - 1].id) : null };
  }

  @Get('audit-events.csv')
  @RequireAdmin('read')
  @ApiOperation({
    operationId: 'adminExportAuditEvents',
    summary: 'The audit log as CSV (streamed, newest first), with the filter of the list',
    description:
      `Columns: ${CSV_COLUMNS.join(', ')} (details as JSON). RFC 4180 quoting; a cell starting with = + - @ is prefixed ` +
      "with ' so spreadsheets never run it as a formula.",
  })
  @ApiProduces('text/csv')
  @ApiOkResponse({
    description: 'CSV with a header row',
    content: { 'text/csv': { schema: { type: 'string' } } },
    headers: { 'Content-Disposition': { description: 'attachment; filename="audit-events.csv"', schema: { type: 'string' } } },
  })
  @ApiProblemResponse(422, READ_PROBLEMS, ['validation_failed'])
  async exportAudit(@Query() query: AdminAuditQuery): Promise<StreamableFile> {
    const filter = await this.admin.auditFilter(query);
    const admin = this.admin;
    // The first batch before any byte is sent: a database failure is still a proper 503 problem.
    const first = await admin.listAudit(filter, undefined, CSV_BATCH);
    async function* lines(): AsyncGenerator<string> {
      yield `${CSV_COLUMNS.join(',')}\r\n`;
      let rows = first;
      for (;;) {
        if (rows.length > 0) yield rows.map(csvRow).join('');
        if (rows.length < CSV_BATCH) return;
        rows = await admin.listAudit(filter, String(rows[rows.length - 1].id), CSV_BATCH);
      }
    }
    return new StreamableFile(Readable.from(lines()), {
      type: 'text/csv; charset=utf-8',
      disposition: 'attachment; filename="audit-events.csv"',
    });
  }

  @Get('policy')
  @RequireAdmin('read')
  @ApiOperation({ operationId: 'adminGetPolicy', summary: "The organisation's key policy, where it comes from and who last changed it" })
  @ApiOkResponse({ type: AdminKeyPolicyResponse })
  getPolicy(): Promise<AdminKeyPolicyResponse> {
    return this.admin.readPolicy();
  }

  @Put('policy')
  @RequireAdmin('write')
  @ApiOperation({
    operationId: 'adminUpdatePolicy',
    summary: "Replace the organisation's key policy; every instance applies it at once",
    description:
      'Creating and rotating keys follow it from the next request on; existing keys are not changed. Recorded as ' +
      '`policy.updated` with `before` and `after`.',
  })
  @ApiOkResponse({ type: AdminKeyPolicyResponse })
  @ApiBodyProblemResponses()
  @ApiProblemResponse(
    422,
    'A member is missing or invalid, default_scopes holds an opt-in scope or one not in allowed_scopes, or expiry_warning_days exceeds max_lifetime_days.',
    ['validation_failed'],
  )
  updatePolicy(@Body() body: KeyPolicyBody, @CurrentActor() actor: AuditActor): Promise<AdminKeyPolicyResponse> {
    return this.admin.updatePolicy(body, actor);
  }

  @Get('keys/:id/usage')
  @RequireAdmin('read')
  @ApiOperation({ operationId: 'adminGetKeyUsage', summary: "Any user's key: requests and refusals, hourly for 7 days or daily for 30" })
  @ApiParam({ name: 'id', schema: { type: 'integer', minimum: 1, maximum: 2147483647 }, description: "The key's `id`" })
  @ApiQuery({ name: 'days', required: false, schema: { type: 'integer', enum: [7, 30], default: 7 } })
  @ApiOkResponse({ type: KeyUsageResponse })
  @ApiProblemResponse(400, 'The id is not a positive 32-bit integer.', ['invalid_id'])
  @ApiProblemResponse(404, 'No such key.', ['api_key_not_found'])
  @ApiProblemResponse(422, '`days` is neither 7 nor 30.', ['validation_failed'])
  keyUsage(@Param('id', IdPipe) id: number, @Query('days') days: unknown): Promise<KeyUsageResponse> {
    if (days !== undefined && days !== '7' && days !== '30')
      throw ApiProblem.unprocessable('days must be 7 or 30', [{ field: 'days', message: 'must be 7 or 30' }]);
    return this.usage.usageOf(null, id, days === '30' ? 30 : 7);
  }

  @Get('overview')
  @RequireAdmin('read')
  @ApiOperation({
    operationId: 'adminGetOverview',
    summary: 'Key counts by status, keys created per day (30 days), refused authentications per hour (24 h), top keys (7 days)',
  })
  @ApiOkResponse({ type: AdminOverview })
  overview(): Promise<AdminOverview> {
    return this.admin.overview();
  }
}

/** The policy in effect, for every signed-in user (the create dialog's limits). */
@ApiTags('API keys')
@Controller('api/policy')
export class PolicyController {
  constructor(private readonly policy: KeyPolicyService) {}

  @Get()
  @RequireScopes('keys:read')
  @ApiOperation({
    operationId: 'getKeyPolicy',
    summary: "The organisation's key policy in effect: maximum lifetime, whether keys must expire, the scopes new keys may hold and get",
  })
  @ApiOkResponse({ type: KeyPolicyResponse })
  get(): KeyPolicyResponse {
    return policyResponse(this.policy.current());
  }
}

@Module({
  imports: [DatabaseModule, CredentialsModule, ApiKeysModule],
  controllers: [AdminController, PolicyController],
  providers: [AdminService],
})
export class AdminModule {}
