import { ChangeDetectionStrategy, Component, inject, OnInit, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { MatButton } from '@angular/material/button';
import { MatFormField, MatLabel } from '@angular/material/form-field';
import { MatIcon } from '@angular/material/icon';
import { MatProgressBar } from '@angular/material/progress-bar';
import { MatOption, MatSelect } from '@angular/material/select';
import { MatTableModule } from '@angular/material/table';
import { TimeAgo } from '../shared/time/time-ago';
import { ActivityApi, type AuditEvent, type AuditEventType, EVENT_LABELS } from './activity.api';
import { describeActor, describeEvent } from './event-description';

/** Settings → Activity: the signed-in user's audit log, newest first, filterable, page by page. */
@Component({
  selector: 'app-activity-page',
  imports: [FormsModule, MatButton, MatFormField, MatLabel, MatSelect, MatOption, MatIcon, MatProgressBar, MatTableModule, TimeAgo],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="page" aria-labelledby="activity-heading">
      <h1 id="activity-heading">Activity</h1>
      <p class="lead">What happened to your keys and sessions: who did it, with which credential, from where.</p>
      <mat-form-field appearance="outline" class="filter">
        <mat-label>Event</mat-label>
        <mat-select [ngModel]="type()" (ngModelChange)="filterBy($event)" data-testid="event-filter">
          <mat-option [value]="undefined">All events</mat-option>
          @for (option of types; track option.value) {
            <mat-option [value]="option.value">{{ option.label }}</mat-option>
          }
        </mat-select>
      </mat-form-field>
      @if (error()) {
        <div class="state" role="alert">
          <mat-icon aria-hidden="true">error</mat-icon>
          <p>The activity could not be loaded. {{ error() }}</p>
          <button mat-stroked-button type="button" (click)="reload()">Retry</button>
        </div>
      }
      @if (loading() && events().length === 0) {
        <mat-progress-bar mode="indeterminate" aria-label="Loading activity" />
      } @else if (!error() && events().length === 0) {
        <p class="state">Nothing yet. Creating or deleting a key, or signing in, shows up here.</p>
      } @else if (events().length > 0) {
        <div class="table-scroll">
          <table mat-table [dataSource]="events()" aria-label="Your activity">
            <ng-container matColumnDef="when">
              <th mat-header-cell *matHeaderCellDef scope="col">When</th>
              <td mat-cell *matCellDef="let e"><app-time-ago [value]="e.occurred_at" /></td>
            </ng-container>
            <ng-container matColumnDef="what">
              <th mat-header-cell *matHeaderCellDef scope="col">What</th>
              <td mat-cell *matCellDef="let e" data-testid="event-what">{{ describe(e) }}</td>
            </ng-container>
            <ng-container matColumnDef="key">
              <th mat-header-cell *matHeaderCellDef scope="col">Key</th>
              <td mat-cell *matCellDef="let e">
                @if (e.key_hint) {
                  <code>{{ e.key_hint }}</code>
                }
              </td>
            </ng-container>
            <ng-container matColumnDef="how">
              <th mat-header-cell *matHeaderCellDef scope="col">With</th>
              <td mat-cell *matCellDef="let e">{{ actor(e) }}</td>
            </ng-container>
            <ng-container matColumnDef="from">
              <th mat-header-cell *matHeaderCellDef scope="col">From</th>
              <td mat-cell *matCellDef="let e" [attr.title]="e.user_agent">{{ e.client_address ?? '—' }}</td>
            </ng-container>
            <tr mat-header-row *matHeaderRowDef="columns"></tr>
            <tr mat-row *matRowDef="let row; columns: columns"></tr>
          </table>
        </div>
        @if (nextCursor()) {
          <button mat-stroked-button type="button" class="more" (click)="loadMore()" [disabled]="loading()">Show older events</button>
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

  protected readonly columns = ['when', 'what', 'key', 'how', 'from'];
  protected readonly types = (Object.keys(EVENT_LABELS) as AuditEventType[]).map((value) => ({ value, label: EVENT_LABELS[value] }));
  protected readonly events = signal<AuditEvent[]>([]);
  protected readonly nextCursor = signal<string | null>(null);
  protected readonly loading = signal(false);
  protected readonly error = signal<string | null>(null);
  protected readonly type = signal<AuditEventType | undefined>(undefined);
  protected readonly describe = describeEvent;
  protected readonly actor = describeActor;

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
      error: (error: { error?: { detail?: string } }) => {
        this.error.set(error.error?.detail ?? 'Try again in a moment.');
        this.loading.set(false);
      },
    });
  }
}
