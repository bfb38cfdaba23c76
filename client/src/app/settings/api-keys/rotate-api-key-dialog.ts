import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { MatButton } from '@angular/material/button';
import { MAT_DIALOG_DATA, MatDialogActions, MatDialogClose, MatDialogContent, MatDialogTitle } from '@angular/material/dialog';
import { MatRadioButton, MatRadioGroup } from '@angular/material/radio';

export interface RotateApiKeyDialogData {
  name: string;
}

/** The grace periods offered: how long the old key keeps working after the new one exists. */
export const GRACE_PERIODS = [
  { seconds: 0, label: 'None: the old key stops working now' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 86_400, label: '24 hours' },
  { seconds: 604_800, label: '7 days' },
] as const;

/** Asks how long the old key may keep working; closes with the grace period in seconds. */
@Component({
  selector: 'app-rotate-api-key-dialog',
  imports: [FormsModule, MatDialogTitle, MatDialogContent, MatDialogActions, MatDialogClose, MatButton, MatRadioGroup, MatRadioButton],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h2 mat-dialog-title>Rotate “{{ data.name }}”</h2>
    <mat-dialog-content>
      <p>
        A new key with the same name, scopes and lifetime replaces this one. It is shown once. Until the old key stops working, its answers
        carry <code>Deprecation</code> and <code>Sunset</code> headers.
      </p>
      <mat-radio-group [(ngModel)]="grace" aria-label="Old key keeps working for" class="choices">
        @for (option of periods; track option.seconds) {
          <mat-radio-button [value]="option.seconds">{{ option.label }}</mat-radio-button>
        }
      </mat-radio-group>
    </mat-dialog-content>
    <mat-dialog-actions align="end">
      <button mat-button type="button" mat-dialog-close>Cancel</button>
      <button mat-flat-button type="button" [mat-dialog-close]="grace()">Rotate key</button>
    </mat-dialog-actions>
  `,
  styles: `
    .choices {
      display: flex;
      flex-direction: column;
      gap: 4px;
    }
  `,
})
export class RotateApiKeyDialog {
  protected readonly data = inject<RotateApiKeyDialogData>(MAT_DIALOG_DATA);
  protected readonly periods = GRACE_PERIODS;
  protected readonly grace = signal<number>(3600);
}
