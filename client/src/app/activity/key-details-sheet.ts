import { ChangeDetectionStrategy, Component, inject, OnInit, signal } from '@angular/core';
import { Observable } from 'rxjs';
import { MatButton } from '@angular/material/button';
import { MatButtonToggle, MatButtonToggleGroup } from '@angular/material/button-toggle';
import { MAT_DIALOG_DATA, MatDialogActions, MatDialogClose, MatDialogContent, MatDialogTitle } from '@angular/material/dialog';
import { MatProgressBar } from '@angular/material/progress-bar';
import { TranslocoPipe } from '@jsverse/transloco';
import { I18n } from '../i18n/i18n';
import { TimeAgo } from '../shared/time/time-ago';
import { ActivityApi, type AuditEvent, type KeyUsage } from './activity.api';
import { describeActor, describeEvent } from './event-description';
import { UsageChart } from './usage-chart';

export interface KeyDetailsData {
  id: number;
  name: string;
  key_hint: string;
  /** The owner, when an admin looks at someone else's key. */
  owner?: string;
  /** Where the recent events come from: the owner's own log, or (for admins) the whole log. */
  events?: (keyId: number) => Observable<{ items: AuditEvent[] }>;
  /**
   * Where the usage comes from; `null` when there is none to read (the API serves a key's usage
   * to its owner only, so admins looking at someone else's key get a note instead of a chart).
   */
  usage?: ((keyId: number, days: 7 | 30) => Observable<KeyUsage>) | null;
}

/** A key's side sheet: its usage over 7 or 30 days and its recent events. */
@Component({
  selector: 'app-key-details-sheet',
  imports: [
    MatDialogTitle,
    MatDialogContent,
    MatDialogActions,
    MatDialogClose,
    MatButton,
    MatButtonToggleGroup,
    MatButtonToggle,
    MatProgressBar,
    UsageChart,
    TimeAgo,
    TranslocoPipe,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h2 mat-dialog-title>{{ data.name }}</h2>
    <mat-dialog-content>
      <p>
        <code>{{ data.key_hint }}</code>
        @if (data.owner) {
          · {{ 'keySheet.owner' | transloco: { user: data.owner } }}
        }
      </p>
      <h3>{{ 'keySheet.usage' | transloco }}</h3>
      @if (data.usage === null) {
        <p class="muted" data-testid="usage-owner-only">{{ 'keySheet.usageOwnerOnly' | transloco }}</p>
      } @else {
        <mat-button-toggle-group
          [value]="days()"
          (change)="show($event.value)"
          [attr.aria-label]="'keySheet.period' | transloco"
          hideSingleSelectionIndicator
        >
          <mat-button-toggle [value]="7">{{ 'keySheet.days7' | transloco }}</mat-button-toggle>
          <mat-button-toggle [value]="30">{{ 'keySheet.days30' | transloco }}</mat-button-toggle>
        </mat-button-toggle-group>
        @if (usage(); as usage) {
          <app-usage-chart [usage]="usage" />
        } @else if (failed()) {
          <p role="alert">{{ 'keySheet.usageFailed' | transloco }}</p>
        } @else {
          <mat-progress-bar mode="indeterminate" [attr.aria-label]="'keySheet.loadingUsage' | transloco" />
        }
      }
      <h3>{{ 'keySheet.recentEvents' | transloco }}</h3>
      <ul class="events" data-testid="key-events">
        @for (event of events(); track event.id) {
          <li><app-time-ago [value]="event.occurred_at" /> · {{ describe(event) }} · {{ actor(event) }}</li>
        } @empty {
          <li>{{ 'keySheet.noEvents' | transloco }}</li>
        }
      </ul>
    </mat-dialog-content>
    <mat-dialog-actions align="end">
      <button mat-button type="button" mat-dialog-close>{{ 'common.close' | transloco }}</button>
    </mat-dialog-actions>
  `,
  styles: `
    h3 {
      font: var(--mat-sys-title-small);
      margin: 16px 0 8px;
    }
    .muted {
      color: var(--mat-sys-on-surface-variant);
    }
    .events {
      padding-left: 16px;
      font: var(--mat-sys-body-medium);
    }
  `,
})
export class KeyDetailsSheet implements OnInit {
  protected readonly data = inject<KeyDetailsData>(MAT_DIALOG_DATA);
  private readonly api = inject(ActivityApi);
  private readonly i18n = inject(I18n);

  protected readonly days = signal<7 | 30>(7);
  protected readonly usage = signal<KeyUsage | null>(null);
  protected readonly failed = signal(false);
  protected readonly events = signal<AuditEvent[]>([]);
  protected describe(event: AuditEvent): string {
    return describeEvent(event, this.i18n.t, this.i18n.locale());
  }
  protected actor(event: AuditEvent): string {
    return describeActor(event, this.i18n.t);
  }

  ngOnInit(): void {
    this.show(7);
    const events = this.data.events?.(this.data.id) ?? this.api.events({ keyId: this.data.id, limit: 10 });
    events.subscribe({ next: (page) => this.events.set(page.items), error: () => undefined });
  }

  protected show(days: 7 | 30): void {
    if (this.data.usage === null) return;
    this.days.set(days);
    this.failed.set(false);
    const usage = this.data.usage?.(this.data.id, days) ?? this.api.usage(this.data.id, days);
    usage.subscribe({ next: (usage) => this.usage.set(usage), error: () => this.failed.set(true) });
  }
}
