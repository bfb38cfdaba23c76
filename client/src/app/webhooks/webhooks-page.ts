import { ChangeDetectionStrategy, Component, inject, OnInit, signal } from '@angular/core';
import { MatButton } from '@angular/material/button';
import { MatCard, MatCardActions, MatCardContent, MatCardHeader, MatCardSubtitle, MatCardTitle } from '@angular/material/card';
import { MatDialog } from '@angular/material/dialog';
import { MatIcon } from '@angular/material/icon';
import { MatProgressBar } from '@angular/material/progress-bar';
import { MatSnackBar } from '@angular/material/snack-bar';
import { MatTableModule } from '@angular/material/table';
import { TranslocoPipe } from '@jsverse/transloco';
import { filter, switchMap } from 'rxjs';
import { I18n } from '../i18n/i18n';
import { problemOf } from '../settings/api-keys/api-keys.api';
import { ConfirmDialog, type ConfirmDialogData } from '../shared/confirm-dialog/confirm-dialog';
import { TimeAgo } from '../shared/time/time-ago';
import { AddWebhookDialog } from './add-webhook-dialog';
import { type Webhook, type WebhookDelivery, WebhooksApi } from './webhooks.api';

interface DeliveryLog {
  items: WebhookDelivery[];
  next: string | null;
  loading: boolean;
}

/**
 * Settings → Webhooks: the endpoints that hear about the user's keys (created, rotated, revoked,
 * expiring, expired, leaked, a replaced key still in use), each with its delivery log.
 */
@Component({
  selector: 'app-webhooks-page',
  imports: [
    MatButton,
    MatCard,
    MatCardHeader,
    MatCardTitle,
    MatCardSubtitle,
    MatCardContent,
    MatCardActions,
    MatIcon,
    MatProgressBar,
    MatTableModule,
    TimeAgo,
    TranslocoPipe,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="page" aria-labelledby="webhooks-heading">
      <div class="heading">
        <div>
          <h1 id="webhooks-heading">{{ 'webhooks.heading' | transloco }}</h1>
          <p class="lead">{{ 'webhooks.lead' | transloco }}</p>
        </div>
        <button mat-flat-button type="button" (click)="add()" data-testid="add-webhook">
          <mat-icon>add</mat-icon>{{ 'webhooks.add' | transloco }}
        </button>
      </div>
      @if (error()) {
        <div class="state" role="alert">
          <mat-icon aria-hidden="true">error</mat-icon>
          <p>{{ error() }}</p>
          <button mat-stroked-button type="button" (click)="reload()">{{ 'common.retry' | transloco }}</button>
        </div>
      }
      @if (loading() && hooks().length === 0) {
        <mat-progress-bar mode="indeterminate" [attr.aria-label]="'webhooks.loading' | transloco" />
      } @else if (!error() && hooks().length === 0) {
        <p class="state">{{ 'webhooks.empty' | transloco }}</p>
      }
      @for (hook of hooks(); track hook.id) {
        <mat-card appearance="outlined" class="hook" [attr.data-testid]="'webhook-' + hook.id">
          <mat-card-header>
            <mat-card-title class="url">{{ hook.url }}</mat-card-title>
            <mat-card-subtitle>{{ hook.description || ('webhooks.noDescription' | transloco) }}</mat-card-subtitle>
          </mat-card-header>
          <mat-card-content>
            <p class="status-line">
              @if (hook.status === 'enabled') {
                <span class="chip ok">{{ 'webhooks.enabled' | transloco }}</span>
              } @else {
                <span class="chip bad">{{ 'webhooks.disabled' | transloco }}</span>
                <span class="reason">{{ hook.disabled_reason }}</span>
              }
              @if (hook.consecutive_failures > 0) {
                <span class="failures">{{ 'webhooks.failures' | transloco: { count: hook.consecutive_failures } }}</span>
              }
            </p>
            <ul class="events" [attr.aria-label]="'webhooks.events' | transloco">
              @for (event of hook.events; track event) {
                <li class="chip">{{ 'events.types.' + event | transloco }}</li>
              }
            </ul>
            @if (logs()[hook.id]; as log) {
              @if (log.items.length === 0 && !log.loading) {
                <p class="state">{{ 'webhooks.noDeliveries' | transloco }}</p>
              } @else {
                <div class="table-scroll">
                  <table mat-table [dataSource]="log.items" [attr.aria-label]="'webhooks.deliveries' | transloco">
                    <ng-container matColumnDef="when">
                      <th mat-header-cell *matHeaderCellDef scope="col">{{ 'activity.when' | transloco }}</th>
                      <td mat-cell *matCellDef="let d"><app-time-ago [value]="d.created_at" /></td>
                    </ng-container>
                    <ng-container matColumnDef="event">
                      <th mat-header-cell *matHeaderCellDef scope="col">{{ 'webhooks.event' | transloco }}</th>
                      <td mat-cell *matCellDef="let d">{{ eventLabel(d.event_type) }}</td>
                    </ng-container>
                    <ng-container matColumnDef="status">
                      <th mat-header-cell *matHeaderCellDef scope="col">{{ 'webhooks.status' | transloco }}</th>
                      <td mat-cell *matCellDef="let d" data-testid="delivery-status">
                        <span class="chip" [class.ok]="d.status === 'delivered'" [class.bad]="d.status === 'failed'">{{
                          'webhooks.deliveryStatus.' + d.status | transloco
                        }}</span>
                      </td>
                    </ng-container>
                    <ng-container matColumnDef="attempts">
                      <th mat-header-cell *matHeaderCellDef scope="col">{{ 'webhooks.attempts' | transloco }}</th>
                      <td mat-cell *matCellDef="let d">{{ d.attempts }}</td>
                    </ng-container>
                    <ng-container matColumnDef="response">
                      <th mat-header-cell *matHeaderCellDef scope="col">{{ 'webhooks.response' | transloco }}</th>
                      <td mat-cell *matCellDef="let d">
                        <div class="response">
                          {{ d.last_status_code ?? '—' }}
                          @if (d.last_error) {
                            <span class="error-text">{{ d.last_error }}</span>
                          }
                          @if (d.next_attempt_at) {
                            <span class="retry">{{ 'webhooks.nextRetry' | transloco }} <app-time-ago [value]="d.next_attempt_at" /></span>
                          }
                        </div>
                      </td>
                    </ng-container>
                    <tr mat-header-row *matHeaderRowDef="columns"></tr>
                    <tr mat-row *matRowDef="let row; columns: columns"></tr>
                  </table>
                </div>
                @if (log.next) {
                  <button mat-button type="button" (click)="moreDeliveries(hook)" [disabled]="log.loading">
                    {{ 'activity.more' | transloco }}
                  </button>
                }
              }
            }
          </mat-card-content>
          <mat-card-actions align="end">
            <button mat-button type="button" (click)="toggleDeliveries(hook)" [attr.aria-expanded]="!!logs()[hook.id]">
              {{ (logs()[hook.id] ? 'webhooks.hideDeliveries' : 'webhooks.showDeliveries') | transloco }}
            </button>
            @if (hook.status === 'disabled') {
              <button mat-button type="button" (click)="enable(hook)">{{ 'webhooks.enable' | transloco }}</button>
            } @else {
              <button mat-button type="button" (click)="test(hook)">{{ 'webhooks.sendTest' | transloco }}</button>
            }
            <button mat-button type="button" class="danger" (click)="remove(hook)">{{ 'common.delete' | transloco }}</button>
          </mat-card-actions>
        </mat-card>
      }
      <details class="howto">
        <summary>{{ 'webhooks.verifyTitle' | transloco }}</summary>
        <p>{{ 'webhooks.verifyText' | transloco }}</p>
        <pre><code>{{ verifySnippet }}</code></pre>
      </details>
    </section>
  `,
  styles: `
    .page {
      max-width: 1100px;
      margin: 24px auto;
      padding: 0 16px;
    }
    .heading {
      display: flex;
      flex-wrap: wrap;
      gap: 12px;
      align-items: flex-start;
      justify-content: space-between;
      margin-bottom: 16px;
    }
    h1 {
      font: var(--mat-sys-headline-small);
      margin: 0 0 4px;
    }
    .lead {
      color: var(--mat-sys-on-surface-variant);
      margin: 0;
      max-width: 70ch;
    }
    .hook {
      margin-bottom: 16px;
    }
    .url {
      word-break: break-all;
    }
    .status-line {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 8px;
    }
    .events {
      display: flex;
      flex-wrap: wrap;
      gap: 6px;
      list-style: none;
      padding: 0;
      margin: 8px 0;
    }
    .chip {
      display: inline-block;
      padding: 2px 10px;
      border-radius: 12px;
      font: var(--mat-sys-label-medium);
      background: var(--mat-sys-surface-container-highest);
      color: var(--mat-sys-on-surface);
    }
    .chip.ok {
      background: var(--mat-sys-primary-container);
      color: var(--mat-sys-on-primary-container);
    }
    .chip.bad {
      background: var(--mat-sys-error-container);
      color: var(--mat-sys-on-error-container);
    }
    .reason,
    .failures,
    .retry,
    .error-text {
      color: var(--mat-sys-on-surface-variant);
      font: var(--mat-sys-body-small);
    }
    .response {
      display: flex;
      flex-direction: column;
    }
    .table-scroll {
      overflow-x: auto;
    }
    .state {
      display: flex;
      align-items: center;
      gap: 8px;
    }
    .danger {
      color: var(--mat-sys-error);
    }
    .howto pre {
      overflow-x: auto;
      padding: 12px;
      border-radius: 8px;
      background: var(--mat-sys-surface-container-highest);
    }
  `,
})
export class WebhooksPage implements OnInit {
  private readonly api = inject(WebhooksApi);
  private readonly i18n = inject(I18n);
  private readonly dialog = inject(MatDialog);
  private readonly snackBar = inject(MatSnackBar);

  protected readonly columns = ['when', 'event', 'status', 'attempts', 'response'];
  protected readonly hooks = signal<Webhook[]>([]);
  protected readonly logs = signal<Record<number, DeliveryLog>>({});
  protected readonly loading = signal(false);
  protected readonly error = signal<string | null>(null);
  protected readonly verifySnippet = [
    "import { Webhook } from 'standardwebhooks';",
    '',
    '// secret: the whsec_… value shown once when you added the endpoint',
    'const payload = new Webhook(secret).verify(rawBody, request.headers);',
    '// Throws unless webhook-signature matches; deduplicate on the webhook-id header.',
  ].join('\n');

  ngOnInit(): void {
    this.reload();
  }

  protected eventLabel(type: string): string {
    return type === 'webhook.test' ? this.i18n.t('webhooks.testEvent') : this.i18n.t(`events.types.${type}`);
  }

  protected reload(): void {
    this.loading.set(true);
    this.error.set(null);
    this.api.list().subscribe({
      next: (hooks) => {
        this.hooks.set(hooks);
        this.loading.set(false);
      },
      error: (error: unknown) => {
        this.loading.set(false);
        this.error.set(this.i18n.problem(problemOf(error)));
      },
    });
  }

  protected add(): void {
    this.dialog
      .open(AddWebhookDialog, { width: '560px', maxWidth: '95vw', autoFocus: 'first-tabbable' })
      .afterClosed()
      .pipe(filter((hook) => !!hook))
      .subscribe(() => this.reload());
  }

  protected test(hook: Webhook): void {
    this.api.test(hook.id).subscribe({
      next: () => {
        this.snackBar.open(this.i18n.t('webhooks.testQueued'), undefined, { duration: 4000 });
        this.loadDeliveries(hook.id);
      },
      error: (error: unknown) => this.snackBar.open(this.i18n.problem(problemOf(error)), undefined, { duration: 6000 }),
    });
  }

  protected enable(hook: Webhook): void {
    this.api.enable(hook.id).subscribe({
      next: (updated) => this.hooks.update((all) => all.map((h) => (h.id === updated.id ? updated : h))),
      error: (error: unknown) => this.snackBar.open(this.i18n.problem(problemOf(error)), undefined, { duration: 6000 }),
    });
  }

  protected remove(hook: Webhook): void {
    const data: ConfirmDialogData = {
      title: this.i18n.t('webhooks.deleteTitle'),
      message: this.i18n.t('webhooks.deleteMessage', { url: hook.url }),
      confirmLabel: this.i18n.t('common.delete'),
      destructive: true,
    };
    this.dialog
      .open(ConfirmDialog, { data })
      .afterClosed()
      .pipe(
        filter((confirmed) => confirmed === true),
        switchMap(() => this.api.remove(hook.id)),
      )
      .subscribe({
        next: () => {
          this.hooks.update((all) => all.filter((h) => h.id !== hook.id));
          this.snackBar.open(this.i18n.t('webhooks.deleted'), undefined, { duration: 4000 });
        },
        error: (error: unknown) => this.snackBar.open(this.i18n.problem(problemOf(error)), undefined, { duration: 6000 }),
      });
  }

  protected toggleDeliveries(hook: Webhook): void {
    if (this.logs()[hook.id]) {
      this.logs.update((logs) => {
        const { [hook.id]: _closed, ...rest } = logs;
        return rest;
      });
      return;
    }
    this.loadDeliveries(hook.id);
  }

  protected moreDeliveries(hook: Webhook): void {
    const log = this.logs()[hook.id];
    if (log?.next) this.loadDeliveries(hook.id, log.next);
  }

  private loadDeliveries(id: number, after?: string): void {
    const previous = after ? (this.logs()[id]?.items ?? []) : [];
    this.logs.update((logs) => ({ ...logs, [id]: { items: previous, next: null, loading: true } }));
    this.api.deliveries(id, after).subscribe({
      next: (page) =>
        this.logs.update((logs) => ({ ...logs, [id]: { items: [...previous, ...page.items], next: page.next_cursor, loading: false } })),
      error: (error: unknown) => {
        this.logs.update((logs) => ({ ...logs, [id]: { items: previous, next: null, loading: false } }));
        this.snackBar.open(this.i18n.problem(problemOf(error)), undefined, { duration: 6000 });
      },
    });
  }
}
