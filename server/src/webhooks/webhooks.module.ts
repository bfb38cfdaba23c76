import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { WebhookSender } from './webhook-sender';
import { WebhookWorker } from './webhook-worker';
import { WebhooksController, WebhooksService } from './webhooks.controller';

/** Webhook endpoints, their outbox worker and the signed sender. */
@Module({
  imports: [DatabaseModule],
  controllers: [WebhooksController],
  providers: [WebhooksService, WebhookSender, WebhookWorker],
  exports: [WebhookWorker],
})
export class WebhooksModule {}
