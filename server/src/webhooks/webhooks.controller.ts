import { Body, Controller, Delete, Get, HttpCode, Injectable, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { CurrentActor, CurrentPrincipal, RequireScopes } from '../auth/decorators/auth.decorators';
import { IdPipe } from '../common/id.pipe';
import { ApiProblem } from '../common/problem';
import { ApiBodyProblemResponses, ApiProblemResponse, RETRY_AFTER } from '../common/problem.dto';
import { AppConfig } from '../config/app-config';
import type { Principal } from '../credentials/principal';
import { lockUntilCommit } from '../database/advisory-lock';
import { type AuditActor, AuditEventsRepository } from '../database/repositories/audit-events.repository';
import { type WebhookDeliveryRow, type WebhookEndpointRow, WebhooksRepository } from '../database/repositories/webhooks.repository';
import { TEST_EVENT, type WebhookEvent } from './webhook-events';
import { WebhookSender } from './webhook-sender';
import { urlProblem } from './webhook-target';
import { CreateWebhookRequest, WebhookCreatedResponse, WebhookDeliveryPage, WebhookDeliveryResponse, WebhookResponse } from './webhook.dto';

const ID_PARAM = { name: 'id', schema: { type: 'integer' as const, minimum: 1, maximum: 2147483647 }, description: "The webhook's `id`" };
const notFound = () => ApiProblem.notFound('Webhook not found', 'webhook_not_found');

function toResponse(row: WebhookEndpointRow): WebhookResponse {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events as WebhookEvent[],
    created_at: row.created_at.toISOString(),
    status: row.disabled_at ? 'disabled' : 'enabled',
    disabled_reason: row.disabled_reason,
    consecutive_failures: row.consecutive_failures,
  };
}

function deliveryResponse(row: WebhookDeliveryRow): WebhookDeliveryResponse {
  return {
    id: Number(row.id),
    message_id: row.message_id,
    event_type: row.event_type,
    status: row.status,
    attempts: row.attempts,
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    created_at: row.created_at.toISOString(),
    last_attempt_at: row.last_attempt_at?.toISOString() ?? null,
    next_attempt_at: row.status === 'pending' ? row.next_attempt_at.toISOString() : null,
  };
}

@Injectable()
export class WebhooksService {
  constructor(
    private readonly config: AppConfig,
    private readonly webhooks: WebhooksRepository,
    private readonly sender: WebhookSender,
    private readonly audit: AuditEventsRepository,
    private readonly dataSource: DataSource,
  ) {}

  async create(userId: string, request: CreateWebhookRequest, actor: AuditActor): Promise<WebhookCreatedResponse> {
    const problem = urlProblem(request.url, this.config.webhooks.allowPrivateTargets);
    if (problem) throw ApiProblem.unprocessable(`url ${problem}`, [{ field: 'url', message: problem }]);
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const row = await this.dataSource.transaction(async (tx) => {
      await lockUntilCommit(tx, `webhooks:${userId}`);
      const count = await this.webhooks.countForUser(tx, userId);
      if (count >= this.config.webhooks.maxPerUser) {
        throw ApiProblem.conflict(`You already have ${count} webhooks, the maximum. Delete one first.`, 'webhook_limit_reached');
      }
      const created = await this.webhooks.create(tx, {
        userId,
        url: request.url,
        description: request.description ?? '',
        events: request.events,
        secretSealed: this.sender.sealSecret(secret),
      });
      // Who can receive a user's key events is itself security-relevant.
      await this.audit.record(tx, {
        type: 'webhook.created',
        actor,
        subject: { userId },
        details: { webhook_id: created.id, url: created.url, events: created.events },
      });
      return created;
    });
    return { ...toResponse(row), secret };
  }

  async list(userId: string): Promise<WebhookResponse[]> {
    return (await this.webhooks.listForUser(userId)).map(toResponse);
  }

  async remove(userId: string, id: number, actor: AuditActor): Promise<void> {
    const endpoint = await this.webhooks.findForUser(userId, id);
    if (!endpoint || !(await this.webhooks.delete(userId, id))) throw notFound();
    await this.audit.record(this.dataSource, {
      type: 'webhook.deleted',
      actor,
      subject: { userId },
      details: { webhook_id: id, url: endpoint.url },
    });
  }

  async enable(userId: string, id: number): Promise<WebhookResponse> {
    if (!(await this.webhooks.enable(userId, id))) throw notFound();
    return toResponse((await this.webhooks.findForUser(userId, id))!);
  }

  /** Queues a `webhook.test` message: delivered by the worker like any other, so it shows in the log. */
  async test(userId: string, id: number): Promise<WebhookDeliveryResponse> {
    const endpoint = await this.webhooks.findForUser(userId, id);
    if (!endpoint) throw notFound();
    if (endpoint.disabled_at) {
      throw ApiProblem.conflict('This webhook is disabled; enable it before sending a test.', 'webhook_disabled');
    }
    // One test at a time per endpoint: tests must not pile up in the queue (each is retried for a day).
    if (await this.webhooks.hasPendingTest(endpoint.id)) {
      throw new ApiProblem({
        status: 429,
        code: 'rate_limited',
        detail: 'A test message for this webhook is still waiting to be delivered; see its delivery log.',
        headers: { 'Retry-After': '10' },
      });
    }
    const messageId = `msg_test${randomBytes(9).toString('hex')}`;
    const row = await this.webhooks.enqueue(endpoint.id, messageId, TEST_EVENT, {
      type: TEST_EVENT,
      timestamp: new Date().toISOString(),
      data: { webhook_id: endpoint.id, user_id: userId, message: 'A test message: your endpoint and signature check work.' },
    });
    return deliveryResponse(row);
  }

  async deliveries(userId: string, id: number, limit: number, after?: string): Promise<WebhookDeliveryPage> {
    if (!(await this.webhooks.findForUser(userId, id))) throw notFound();
    const rows = await this.webhooks.deliveries(id, limit + 1, after);
    const items = rows.slice(0, limit).map(deliveryResponse);
    return { items, next_cursor: rows.length > limit ? String(items[items.length - 1].id) : null };
  }
}

@ApiTags('Webhooks')
@Controller('api/webhooks')
export class WebhooksController {
  constructor(private readonly service: WebhooksService) {}

  @Post()
  @RequireScopes('webhooks:write')
  @ApiOperation({
    operationId: 'createWebhook',
    summary: 'Add a webhook endpoint; the response holds its signing secret, shown this once',
    description:
      'Messages follow the Standard Webhooks specification (`webhook-id`, `webhook-timestamp`, `webhook-signature`), ' +
      'are retried for about 27 hours with the same `webhook-id`, and never contain a key.',
  })
  @ApiCreatedResponse({ type: WebhookCreatedResponse })
  @ApiBodyProblemResponses()
  @ApiProblemResponse(409, 'The per-user webhook limit is reached.', ['webhook_limit_reached'])
  @ApiProblemResponse(422, 'Invalid URL (not https, private address, credentials in it) or events.', ['validation_failed'])
  create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: CreateWebhookRequest,
    @CurrentActor() actor: AuditActor,
  ): Promise<WebhookCreatedResponse> {
    return this.service.create(principal.userId, body, actor);
  }

  @Get()
  @RequireScopes('webhooks:read')
  @ApiOperation({ operationId: 'listWebhooks', summary: 'Your webhook endpoints (never their secrets)' })
  @ApiOkResponse({ type: [WebhookResponse] })
  list(@CurrentPrincipal() principal: Principal): Promise<WebhookResponse[]> {
    return this.service.list(principal.userId);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScopes('webhooks:write')
  @ApiOperation({ operationId: 'deleteWebhook', summary: 'Delete a webhook endpoint and its pending deliveries' })
  @ApiParam(ID_PARAM)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblemResponse(400, 'The id is not a positive 32-bit integer.', ['invalid_id'])
  @ApiProblemResponse(404, 'No such webhook of yours.', ['webhook_not_found'])
  async remove(
    @CurrentPrincipal() principal: Principal,
    @Param('id', IdPipe) id: number,
    @CurrentActor() actor: AuditActor,
  ): Promise<void> {
    await this.service.remove(principal.userId, id, actor);
  }

  @Post(':id/enable')
  @HttpCode(200)
  @RequireScopes('webhooks:write')
  @ApiOperation({ operationId: 'enableWebhook', summary: 'Resume deliveries to an endpoint that was disabled after repeated failures' })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: WebhookResponse })
  @ApiProblemResponse(400, 'The id is not a positive 32-bit integer.', ['invalid_id'])
  @ApiProblemResponse(404, 'No such webhook of yours.', ['webhook_not_found'])
  enable(@CurrentPrincipal() principal: Principal, @Param('id', IdPipe) id: number): Promise<WebhookResponse> {
    return this.service.enable(principal.userId, id);
  }

  @Post(':id/test')
  @HttpCode(202)
  @RequireScopes('webhooks:write')
  @ApiOperation({ operationId: 'testWebhook', summary: 'Send a `webhook.test` message; follow it in the delivery log' })
  @ApiParam(ID_PARAM)
  @ApiAcceptedResponse({ type: WebhookDeliveryResponse })
  @ApiProblemResponse(400, 'The id is not a positive 32-bit integer.', ['invalid_id'])
  @ApiProblemResponse(404, 'No such webhook of yours.', ['webhook_not_found'])
  @ApiProblemResponse(409, 'The webhook is disabled.', ['webhook_disabled'])
  @ApiProblemResponse(429, 'A test message for this webhook is still waiting.', ['rate_limited'], RETRY_AFTER)
  test(@CurrentPrincipal() principal: Principal, @Param('id', IdPipe) id: number): Promise<WebhookDeliveryResponse> {
    return this.service.test(principal.userId, id);
  }

  @Get(':id/deliveries')
  @RequireScopes('webhooks:read')
  @ApiOperation({
    operationId: 'listWebhookDeliveries',
    summary: "An endpoint's deliveries, newest first: status, attempts, last response",
  })
  @ApiParam(ID_PARAM)
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 50 } })
  @ApiQuery({ name: 'after', required: false, schema: { type: 'string' }, description: "The previous page's `next_cursor`" })
  @ApiOkResponse({ type: WebhookDeliveryPage })
  @ApiProblemResponse(400, 'The id is not a positive 32-bit integer, or `after` is not a cursor.', ['invalid_id', 'invalid_cursor'])
  @ApiProblemResponse(404, 'No such webhook of yours.', ['webhook_not_found'])
  @ApiProblemResponse(422, '`limit` is not an integer from 1 to 100.', ['validation_failed'])
  deliveries(
    @CurrentPrincipal() principal: Principal,
    @Param('id', IdPipe) id: number,
    @Query('limit') limit: unknown,
    @Query('after') after: unknown,
  ): Promise<WebhookDeliveryPage> {
    let size = 50;
    if (limit !== undefined) {
      if (typeof limit !== 'string' || !/^\d{1,3}$/.test(limit) || Number(limit) < 1 || Number(limit) > 100) {
        throw ApiProblem.unprocessable('limit must be an integer from 1 to 100', [{ field: 'limit', message: 'must be from 1 to 100' }]);
      }
      size = Number(limit);
    }
    if (after !== undefined && (typeof after !== 'string' || !/^[1-9]\d{0,17}$/.test(after))) {
      throw ApiProblem.badRequest('after is not a cursor this API issued', 'invalid_cursor');
    }
    return this.service.deliveries(principal.userId, id, size, after as string | undefined);
  }
}
