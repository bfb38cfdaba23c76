import { ChangeDetectionStrategy, Component, computed, DestroyRef, inject, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { MatButton } from '@angular/material/button';
import { MatCard, MatCardContent } from '@angular/material/card';
import { MatIcon } from '@angular/material/icon';
import { MatProgressBar } from '@angular/material/progress-bar';
import { MatTableModule } from '@angular/material/table';
import { TranslocoPipe } from '@jsverse/transloco';
import { I18n } from '../i18n/i18n';
import { problemOf } from '../settings/api-keys/api-keys.api';
import { AdminApi, AdminOverview } from './admin.api';
import { BarChart } from './bar-chart';

/** Admin → Overview: keys by status, keys created per day, refused authentications per hour, the busiest keys. */
@Component({
  selector: 'app-admin-overview-page',
  imports: [MatCard, MatCardContent, MatButton, MatIcon, MatProgressBar, MatTableModule, BarChart, TranslocoPipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="page" aria-labelledby="overview-heading">
      <h1 id="overview-heading">{{ 'admin.overview.heading' | transloco }}</h1>
      <p class="lead">{{ 'admin.overview.lead' | transloco }}</p>
      @if (error(); as message) {
        <div class="state error" role="alert">
          <mat-icon aria-hidden="true">error</mat-icon>
          <p>{{ 'admin.overview.loadError' | transloco: { message } }}</p>
          <button mat-stroked-button type="button" (click)="load()">{{ 'common.retry' | transloco }}</button>
        </div>
      } @else if (overview(); as data) {
        <ul class="cards" [attr.aria-label]="'admin.overview.byStatus' | transloco">
          @for (card of cards(); track card.kind) {
            <li>
              <mat-card appearance="outlined" [class]="'card card-' + card.kind">
                <mat-card-content>
                  <span class="count" [attr.data-testid]="'count-' + card.kind">{{ card.count }}</span>
                  <span class="label">{{ card.label }}</span>
                </mat-card-content>
              </mat-card>
            </li>
          }
        </ul>
        <div class="charts">
          <section aria-labelledby="created-heading">
            <h2 id="created-heading">{{ 'admin.overview.createdPerDay' | transloco }}</h2>
            <app-bar-chart [labels]="createdLabels()" [series]="createdSeries()" [summary]="createdSummary()" />
          </section>
          <section aria-labelledby="failures-heading">
            <h2 id="failures-heading">{{ 'admin.overview.failuresPerHour' | transloco }}</h2>
            <app-bar-chart [labels]="failureLabels()" [series]="failureSeries()" [summary]="failureSummary()" />
          </section>
        </div>
        <h2 id="top-heading">{{ 'admin.overview.topKeys' | transloco }}</h2>
        @if (data.top_keys.length === 0) {
          <p class="muted">{{ 'admin.overview.noUsage' | transloco }}</p>
        } @else {
          <div class="table-scroll">
            <table mat-table [dataSource]="data.top_keys" aria-labelledby="top-heading">
              <ng-container matColumnDef="name">
                <th mat-header-cell *matHeaderCellDef scope="col">{{ 'table.name' | transloco }}</th>
                <td mat-cell *matCellDef="let k">
                  {{ k.name ?? '—' }} <code>{{ k.key_hint }}</code>
                </td>
              </ng-container>
              <ng-container matColumnDef="owner">
                <th mat-header-cell *matHeaderCellDef scope="col">{{ 'admin.keys.owner' | transloco }}</th>
                <td mat-cell *matCellDef="let k">{{ k.username ?? k.user_id ?? '—' }}</td>
              </ng-container>
              <ng-container matColumnDef="requests">
                <th mat-header-cell *matHeaderCellDef scope="col" class="number">{{ 'usageChart.requests' | transloco }}</th>
                <td mat-cell *matCellDef="let k" class="number">{{ i18n.number(k.requests) }}</td>
              </ng-container>
              <ng-container matColumnDef="failures">
                <th mat-header-cell *matHeaderCellDef scope="col" class="number">{{ 'usageChart.refused' | transloco }}</th>
                <td mat-cell *matCellDef="let k" class="number">{{ i18n.number(k.failures) }}</td>
              </ng-container>
              <tr mat-header-row *matHeaderRowDef="topColumns"></tr>
              <tr mat-row *matRowDef="let row; columns: topColumns"></tr>
            </table>
          </div>
        }
      } @else {
        <mat-progress-bar mode="indeterminate" [attr.aria-label]="'admin.overview.loading' | transloco" />
      }
    </section>
  `,
  styleUrl: './admin-page.scss',
  styles: `
    .cards {
      list-style: none;
      padding: 0;
      margin: 0;
      display: grid;
      grid-template-columns: repeat(auto-fit, minmax(150px, 1fr));
      gap: 12px;
    }
    .card mat-card-content {
      display: grid;
      gap: 4px;
    }
    .count {
      font: var(--mat-sys-display-small);
    }
    .label {
      color: var(--mat-sys-on-surface-variant);
    }
    .card-expiring .count,
    .card-rotated .count {
      color: var(--mat-sys-tertiary);
    }
    .card-expired .count {
      color: var(--mat-sys-error);
    }
    .charts {
      display: grid;
      grid-template-columns: repeat(auto-fit, minmax(320px, 1fr));
      gap: 0 24px;
    }
    @media (max-width: 400px) {
      .charts {
        grid-template-columns: 100%;
      }
    }
    .number {
      text-align: end;
    }
  `,
})
export class OverviewPage {
  private readonly api = inject(AdminApi);
  private readonly destroyRef = inject(DestroyRef);
  protected readonly i18n = inject(I18n);
  protected readonly overview = signal<AdminOverview | null>(null);
  protected readonly error = signal<string | null>(null);
  protected readonly topColumns = ['name', 'owner', 'requests', 'failures'];

  protected readonly cards = computed(() => {
    const keys = this.overview()?.keys;
    if (!keys) return [];
    return (['active', 'expiring', 'expired', 'rotated'] as const).map((kind) => ({
      kind,
      count: this.i18n.number(keys[kind]),
      label: this.i18n.t(`admin.overview.cards.${kind}`),
    }));
  });

  protected readonly createdLabels = computed(() =>
    (this.overview()?.created_per_day ?? []).map((d) => this.i18n.date(d.day, { month: 'short', day: 'numeric', timeZone: 'UTC' })),
  );
  protected readonly createdSeries = computed(() => [
    {
      label: this.i18n.t('admin.overview.created'),
      values: (this.overview()?.created_per_day ?? []).map((d) => d.count),
      color: ['--mat-sys-primary', '#415f91'] as [string, string],
    },
  ]);
  protected readonly createdSummary = computed(() =>
    this.i18n.t('admin.overview.createdSummary', {
      count: this.i18n.number((this.overview()?.created_per_day ?? []).reduce((n, d) => n + d.count, 0)),
    }),
  );
  protected readonly failureLabels = computed(() =>
    (this.overview()?.auth_failures_per_hour ?? []).map((h) => this.i18n.date(h.hour, { hour: 'numeric', minute: '2-digit' })),
  );
  protected readonly failureSeries = computed(() => [
    {
      label: this.i18n.t('admin.overview.failures'),
      values: (this.overview()?.auth_failures_per_hour ?? []).map((h) => h.count),
      color: ['--mat-sys-error', '#ba1a1a'] as [string, string],
    },
  ]);
  protected readonly failureSummary = computed(() =>
    this.i18n.t('admin.overview.failuresSummary', {
      count: this.i18n.number((this.overview()?.auth_failures_per_hour ?? []).reduce((n, h) => n + h.count, 0)),
    }),
  );

  constructor() {
    this.load();
  }

  protected load(): void {
    this.error.set(null);
    this.overview.set(null);
    this.api
      .overview()
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe({
        next: (overview) => this.overview.set(overview),
        error: (error: unknown) => this.error.set(this.i18n.problem(problemOf(error), this.i18n.t('common.tryLater'))),
      });
  }
}
