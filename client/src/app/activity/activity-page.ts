import { ChangeDetectionStrategy, Component, inject, OnInit, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { MatButton } from '@angular/material/button';
import { MatFormField, MatLabel } from '@angular/material/form-field';
import { MatIcon } from '@angular/material/icon';
import { MatProgressBar } from '@angular/material/progress-bar';
import { MatOption, MatSelect } from '@angular/material/select';
import { MatTableModule } from '@angular/material/table';
import { TranslocoPipe } from '@jsverse/transloco';
import { I18n } from '../i18n/i18n';
import { problemOf } from '../settings/api-keys/api-keys.api';
import { TimeAgo } from '../shared/time/time-ago';
import { ActivityApi, type AuditEvent, type AuditEventType, EVENT_TYPES } from './activity.api';
import { describeActor, describeEvent } from './event-description';

/** Settings → Activity: the signed-in user's audit log, newest first, filterable, page by page. */
@Component({
  selector: 'app-activity-page',
  imports: [
    FormsModule,
    MatButton,
    MatFormField,
    MatLabel,
    MatSelect,
    MatOption,
    MatIcon,
    MatProgressBar,
    MatTableModule,
    TimeAgo,
    TranslocoPipe,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="page" aria-labelledby="activity-heading">
      <h1 id="activity-heading">{{ 'activity.heading' | transloco }}</h1>
      <p class="lead">{{ 'activity.lead' | transloco }}</p>
      <mat-form-field appearance="outline" class="filter">
        <mat-label>{{ 'activity.eventFilter' | transloco }}</mat-label>
        <mat-select [ngModel]="type()" (ngModelChange)="filterBy($event)" data-testid="event-filter">
          <mat-option [value]="undefined">{{ 'activity.allEvents' | transloco }}</mat-option>
          @for (option of types; track option) {
            <mat-option [value]="option">{{ 'events.types.' + option | transloco }}</mat-option>
          }
        </mat-select>
      </mat-form-field>
      @if (error()) {
        <div class="state" role="alert">
          <mat-icon aria-hidden="true">error</mat-icon>
          <p>{{ 'activity.loadError' | transloco: { message: error() } }}</p>
          <button mat-stroked-button type="button" (click)="reload()">{{ 'common.retry' | transloco }}</button>
        </div>
      }
      @if (loading() && events().length === 0) {
        <mat-progress-bar mode="indeterminate" [attr.aria-label]="'activity.loading' | transloco" />
      } @else if (!error() && events().length === 0) {
        <p class="state">{{ 'activity.empty' | transloco }}</p>
      } @else if (events().length > 0) {
        <div class="table-scroll">
          <table mat-table [dataSource]="events()" [attr.aria-label]="'activity.tableLabel' | transloco">
            <ng-container matColumnDef="when">
              <th mat-header-cell *matHeaderCellDef scope="col">{{ 'activity.when' | transloco }}</th>
              <td mat-cell *matCellDef="let e"><app-time-ago [value]="e.occurred_at" /></td>
            </ng-container>
            <ng-container matColumnDef="what">
              <th mat-header-cell *matHeaderCellDef scope="col">{{ 'activity.what' | transloco }}</th>
              <td mat-cell *matCellDef="let e" data-testid="event-what">{{ describe(e) }}</td>
            </ng-container>
            <ng-container matColumnDef="key">
              <th mat-header-cell *matHeaderCellDef scope="col">{{ 'activity.key' | transloco }}</th>
              <td mat-cell *matCellDef="let e">
                @if (e.key_hint) {
                  <code>{{ e.key_hint }}</code>
                }
              </td>
            </ng-container>
            <ng-container matColumnDef="how">
              <th mat-header-cell *matHeaderCellDef scope="col">{{ 'activity.with' | transloco }}</th>
              <td mat-cell *matCellDef="let e">{{ actor(e) }}</td>
            </ng-container>
            <ng-container matColumnDef="from">
              <th mat-header-cell *matHeaderCellDef scope="col">{{ 'activity.from' | transloco }}</th>
              <td mat-cell *matCellDef="let e" [attr.title]="e.user_agent">{{ e.client_address ?? '—' }}</td>
            </ng-container>
            <tr mat-header-row *matHeaderRowDef="columns"></tr>
            <tr mat-row *matRowDef="let row; columns: columns"></tr>
          </table>
        </div>
        @if (nextCursor()) {
          <button mat-stroked-button type="button" class="more" (click)="loadMore()" [disabled]="loading()">
            {{ 'activity.more' | transloco }}
          </button>
        }
      }
    </section>
  `,
  styles: `
    .page {
      max-width: 1100px;
      margin: 24px auto;
      padding: 0 16px;
    }
    h1 {
      font: var(--mat-sys-headline-small);
      margin: 0 0 4px;
    }
    .lead {
      color: var(--mat-sys-on-surface-variant);
      margin: 0 0 16px;
    }
    .filter {
      min-width: 240px;
    }
    .table-scroll {
      overflow-x: auto;
    }
    .state {
      display: flex;
      align-items: center;
      gap: 8px;
    }
    .more {
      margin-top: 16px;
    }
  `,
})
export class ActivityPage implements OnInit {
  private readonly api = inject(ActivityApi);
  private readonly i18n = inject(I18n);

  protected readonly columns = ['when', 'what', 'key', 'how', 'from'];
  protected readonly types = Object.keys(EVENT_TYPES) as AuditEventType[];
  protected readonly events = signal<AuditEvent[]>([]);
  protected readonly nextCursor = signal<string | null>(null);
  protected readonly loading = signal(false);
  protected readonly error = signal<string | null>(null);
  protected readonly type = signal<AuditEventType | undefined>(undefined);
  protected describe(event: AuditEvent): string {
    return describeEvent(event, this.i18n.t, this.i18n.locale());
  }
  protected actor(event: AuditEvent): string {
    return describeActor(event, this.i18n.t);
  }

  ngOnInit(): void {
    this.reload();
  }

  protected filterBy(type: AuditEventType | undefined): void {
    this.type.set(type);
    this.reload();
  }

  protected reload(): void {
    this.events.set([]);
    this.nextCursor.set(null);
    this.fetch();
  }

  protected loadMore(): void {
    this.fetch(this.nextCursor() ?? undefined);
  }

  private fetch(after?: string): void {
    this.loading.set(true);
    this.error.set(null);
    this.api.events({ type: this.type(), after }).subscribe({
      next: (page) => {
        this.events.update((shown) => [...shown, ...page.items]);
        this.nextCursor.set(page.next_cursor ?? null);
        this.loading.set(false);
      },
      error: (error: unknown) => {
        this.error.set(this.i18n.problem(problemOf(error), this.i18n.t('common.tryLater')));
        this.loading.set(false);
      },
    });
  }
}
