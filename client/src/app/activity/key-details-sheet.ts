import { ChangeDetectionStrategy, Component, inject, OnInit, signal } from '@angular/core';
import { MatButton } from '@angular/material/button';
import { MatButtonToggle, MatButtonToggleGroup } from '@angular/material/button-toggle';
import { MAT_DIALOG_DATA, MatDialogActions, MatDialogClose, MatDialogContent, MatDialogTitle } from '@angular/material/dialog';
import { MatProgressBar } from '@angular/material/progress-bar';
import { TimeAgo } from '../shared/time/time-ago';
import { ActivityApi, type AuditEvent, type KeyUsage } from './activity.api';
import { describeActor, describeEvent } from './event-description';
import { UsageChart } from './usage-chart';

export interface KeyDetailsData {
  id: number;
  name: string;
  key_hint: string;
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
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h2 mat-dialog-title>{{ data.name }}</h2>
    <mat-dialog-content>
      <p>
        <code>{{ data.key_hint }}</code>
      </p>
      <h3>Usage</h3>
      <mat-button-toggle-group [value]="days()" (change)="show($event.value)" aria-label="Period" hideSingleSelectionIndicator>
        <mat-button-toggle [value]="7">7 days</mat-button-toggle>
        <mat-button-toggle [value]="30">30 days</mat-button-toggle>
      </mat-button-toggle-group>
      @if (usage(); as usage) {
        <app-usage-chart [usage]="usage" />
      } @else if (failed()) {
        <p role="alert">The usage could not be loaded.</p>
      } @else {
        <mat-progress-bar mode="indeterminate" aria-label="Loading usage" />
      }
      <h3>Recent events</h3>
      <ul class="events" data-testid="key-events">
        @for (event of events(); track event.id) {
          <li><app-time-ago [value]="event.occurred_at" /> · {{ describe(event) }} · {{ actor(event) }}</li>
        } @empty {
          <li>No events.</li>
        }
      </ul>
    </mat-dialog-content>
    <mat-dialog-actions align="end">
      <button mat-button type="button" mat-dialog-close>Close</button>
    </mat-dialog-actions>
  `,
  styles: `
    h3 {
      font: var(--mat-sys-title-small);
      margin: 16px 0 8px;
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

  protected readonly days = signal<7 | 30>(7);
  protected readonly usage = signal<KeyUsage | null>(null);
  protected readonly failed = signal(false);
  protected readonly events = signal<AuditEvent[]>([]);
  protected readonly describe = describeEvent;
  protected readonly actor = describeActor;

  ngOnInit(): void {
    this.show(7);
    this.api.events({ keyId: this.data.id, limit: 10 }).subscribe({ next: (page) => this.events.set(page.items), error: () => undefined });
  }

  protected show(days: 7 | 30): void {
    this.days.set(days);
    this.failed.set(false);
    this.api.usage(this.data.id, days).subscribe({ next: (usage) => this.usage.set(usage), error: () => this.failed.set(true) });
  }
}
