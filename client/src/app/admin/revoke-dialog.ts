import { ChangeDetectionStrategy, Component, computed, inject } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { FormControl, FormGroup, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButton } from '@angular/material/button';
import {
  MAT_DIALOG_DATA,
  MatDialogActions,
  MatDialogClose,
  MatDialogContent,
  MatDialogRef,
  MatDialogTitle,
} from '@angular/material/dialog';
import { MatError, MatFormField, MatHint, MatLabel } from '@angular/material/form-field';
import { MatInput } from '@angular/material/input';
import { TranslocoPipe } from '@jsverse/transloco';
import { startWith } from 'rxjs';

export interface RevokeDialogData {
  keys: Array<{ name: string; owner: string }>;
}

export const REASON_MAX = 500;
const SHOWN = 5;

/** Asks why before revoking one or more keys of other people; closes with the trimmed reason. */
@Component({
  selector: 'app-revoke-dialog',
  imports: [
    ReactiveFormsModule,
    MatDialogTitle,
    MatDialogContent,
    MatDialogActions,
    MatDialogClose,
    MatButton,
    MatFormField,
    MatLabel,
    MatInput,
    MatHint,
    MatError,
    TranslocoPipe,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h2 mat-dialog-title>{{ 'admin.revoke.title' | transloco: { count: data.keys.length } }}</h2>
    <form [formGroup]="form" (ngSubmit)="submit()" novalidate>
      <mat-dialog-content>
        <p>{{ 'admin.revoke.explanation' | transloco }}</p>
        <ul class="keys" data-testid="revoke-keys">
          @for (key of shown; track $index) {
            <li>
              <strong>{{ key.name }}</strong> · {{ key.owner }}
            </li>
          }
          @if (more > 0) {
            <li>{{ 'admin.revoke.more' | transloco: { count: more } }}</li>
          }
        </ul>
        <mat-form-field appearance="outline" class="full">
          <mat-label>{{ 'admin.revoke.reason' | transloco }}</mat-label>
          <textarea matInput formControlName="reason" rows="3" cdkFocusInitial></textarea>
          <mat-hint>{{ 'admin.revoke.reasonHint' | transloco }}</mat-hint>
          <mat-hint align="end">{{ length() }} / {{ max }}</mat-hint>
          @if (reason.hasError('maxlength')) {
            <mat-error>{{ 'admin.revoke.reasonTooLong' | transloco: { max } }}</mat-error>
          } @else {
            <mat-error>{{ 'admin.revoke.reasonRequired' | transloco }}</mat-error>
          }
        </mat-form-field>
      </mat-dialog-content>
      <mat-dialog-actions align="end">
        <button mat-button type="button" mat-dialog-close>{{ 'common.cancel' | transloco }}</button>
        <button mat-flat-button type="submit" class="destructive" [disabled]="!valid()">
          {{ 'admin.revoke.submit' | transloco: { count: data.keys.length } }}
        </button>
      </mat-dialog-actions>
    </form>
  `,
  styles: `
    .full {
      width: 100%;
    }
    .keys {
      padding-left: 20px;
      overflow-wrap: anywhere;
    }
    .destructive:not([disabled]) {
      --mat-button-filled-container-color: var(--mat-sys-error);
      --mat-button-filled-label-text-color: var(--mat-sys-on-error);
    }
  `,
})
export class RevokeDialog {
  protected readonly data = inject<RevokeDialogData>(MAT_DIALOG_DATA);
  private readonly dialogRef = inject<MatDialogRef<RevokeDialog, string>>(MatDialogRef);
  protected readonly max = REASON_MAX;
  protected readonly shown = this.data.keys.slice(0, SHOWN);
  protected readonly more = Math.max(0, this.data.keys.length - SHOWN);
  protected readonly reason = new FormControl('', {
    nonNullable: true,
    validators: [Validators.required, Validators.pattern(/\S/), Validators.maxLength(REASON_MAX)],
  });
  protected readonly form = new FormGroup({ reason: this.reason });
  private readonly value = toSignal(this.reason.valueChanges.pipe(startWith('')), { requireSync: true });
  protected readonly length = computed(() => this.value().trim().length);
  protected readonly valid = computed(() => this.length() > 0 && this.value().length <= REASON_MAX);

  protected submit(): void {
    if (!this.valid()) {
      this.reason.markAsTouched();
      return;
    }
    this.dialogRef.close(this.reason.value.trim());
  }
}
