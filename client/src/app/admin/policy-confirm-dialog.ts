import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { MatButton } from '@angular/material/button';
import { MAT_DIALOG_DATA, MatDialogActions, MatDialogClose, MatDialogContent, MatDialogTitle } from '@angular/material/dialog';
import { TranslocoPipe } from '@jsverse/transloco';

export interface PolicyChange {
  label: string;
  before: string;
  after: string;
  /** What the change means for keys that already exist. */
  effect: string;
}

export interface PolicyConfirmData {
  changes: PolicyChange[];
}

/** Shows each change, before and after, and what it does to existing keys; closes with true to save. */
@Component({
  selector: 'app-policy-confirm-dialog',
  imports: [MatDialogTitle, MatDialogContent, MatDialogActions, MatDialogClose, MatButton, TranslocoPipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h2 mat-dialog-title>{{ 'admin.policy.confirmTitle' | transloco }}</h2>
    <mat-dialog-content>
      <p>{{ 'admin.policy.confirmLead' | transloco }}</p>
      <dl data-testid="policy-changes">
        @for (change of data.changes; track change.label) {
          <dt>{{ change.label }}</dt>
          <dd>
            <span class="before">{{ change.before }}</span> → <strong>{{ change.after }}</strong>
            <p class="effect">{{ change.effect }}</p>
          </dd>
        }
      </dl>
    </mat-dialog-content>
    <mat-dialog-actions align="end">
      <button mat-button type="button" mat-dialog-close cdkFocusInitial>{{ 'common.cancel' | transloco }}</button>
      <button mat-flat-button type="button" [mat-dialog-close]="true">{{ 'admin.policy.confirmSave' | transloco }}</button>
    </mat-dialog-actions>
  `,
  styles: `
    dt {
      font: var(--mat-sys-title-small);
      margin-top: 12px;
    }
    dd {
      margin: 4px 0 0;
      overflow-wrap: anywhere;
    }
    .before {
      text-decoration: line-through;
      color: var(--mat-sys-on-surface-variant);
    }
    .effect {
      margin: 4px 0 0;
      color: var(--mat-sys-on-surface-variant);
    }
  `,
})
export class PolicyConfirmDialog {
  protected readonly data = inject<PolicyConfirmData>(MAT_DIALOG_DATA);
}
