import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { MatButton } from '@angular/material/button';
import { MAT_DIALOG_DATA, MatDialogActions, MatDialogClose, MatDialogContent, MatDialogTitle } from '@angular/material/dialog';
import { MatRadioButton, MatRadioGroup } from '@angular/material/radio';
import { TranslocoPipe } from '@jsverse/transloco';

export interface RotateApiKeyDialogData {
  name: string;
}

/** The grace periods offered: how long the old key keeps working after the new one exists. */
export const GRACE_PERIODS = [
  { seconds: 0, label: 'rotateDialog.graceNone' },
  { seconds: 3600, label: 'rotateDialog.graceHour' },
  { seconds: 86_400, label: 'rotateDialog.graceDay' },
  { seconds: 604_800, label: 'rotateDialog.graceWeek' },
] as const;

/** Asks how long the old key may keep working; closes with the grace period in seconds. */
@Component({
  selector: 'app-rotate-api-key-dialog',
  imports: [
    FormsModule,
    MatDialogTitle,
    MatDialogContent,
    MatDialogActions,
    MatDialogClose,
    MatButton,
    MatRadioGroup,
    MatRadioButton,
    TranslocoPipe,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h2 mat-dialog-title>{{ 'rotateDialog.title' | transloco: { name: data.name } }}</h2>
    <mat-dialog-content>
      <p [innerHTML]="'rotateDialog.body' | transloco"></p>
      <mat-radio-group [(ngModel)]="grace" [attr.aria-label]="'rotateDialog.graceLabel' | transloco" class="choices">
        @for (option of periods; track option.seconds) {
          <mat-radio-button [value]="option.seconds">{{ option.label | transloco }}</mat-radio-button>
        }
      </mat-radio-group>
    </mat-dialog-content>
    <mat-dialog-actions align="end">
      <button mat-button type="button" mat-dialog-close>{{ 'common.cancel' | transloco }}</button>
      <button mat-flat-button type="button" [mat-dialog-close]="grace()">{{ 'rotateDialog.submit' | transloco }}</button>
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
