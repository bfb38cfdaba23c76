import { provideNativeDateAdapter } from '@angular/material/core';
import { ChangeDetectionStrategy, Component, computed, DestroyRef, inject, signal } from '@angular/core';
import { takeUntilDestroyed, toSignal } from '@angular/core/rxjs-interop';
import { AbstractControl, FormControl, FormGroup, ReactiveFormsModule, ValidationErrors, Validators } from '@angular/forms';
import { MatButton } from '@angular/material/button';
import { MatCheckbox } from '@angular/material/checkbox';
import { MatDatepickerModule } from '@angular/material/datepicker';
import { MatDialogActions, MatDialogClose, MatDialogContent, MatDialogRef, MatDialogTitle } from '@angular/material/dialog';
import { MatError, MatFormField, MatHint, MatLabel, MatSuffix } from '@angular/material/form-field';
import { MatInput } from '@angular/material/input';
import { MatProgressSpinner } from '@angular/material/progress-spinner';
import { MatSelect, MatOption } from '@angular/material/select';
import { startWith } from 'rxjs';
import { ApiKeysApi, CreatedApiKey, problemOf, Scope, SCOPES } from './api-keys.api';

export const NAME_MAX = 255;
const DAY = 86400e3;
export type ExpiryChoice = 'never' | '30' | '90' | '365' | 'date';

/** Trimmed, non-blank, no control characters: the server's rules, checked before sending. */
function nameValidator(control: AbstractControl<string>): ValidationErrors | null {
  const value = control.value ?? '';
  if (value.trim() === '') return { required: true };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return { controlCharacters: true };
  if (value.trim().length > NAME_MAX) return { maxlength: { requiredLength: NAME_MAX } };
  return null;
}

function atLeastOne(control: AbstractControl<Record<string, boolean>>): ValidationErrors | null {
  return Object.values(control.value ?? {}).some(Boolean) ? null : { noScope: true };
}

/** Asks for a name, an expiry and scopes; creates the key itself and closes with it. */
@Component({
  selector: 'app-create-api-key-dialog',
  // Dialogs are created under the root injector: the date picker's adapter comes with the dialog.
  providers: [provideNativeDateAdapter()],
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
    MatError,
    MatHint,
    // Without the directive, mat-form-field drops the [matIconSuffix] calendar toggle.
    MatSuffix,
    MatSelect,
    MatOption,
    MatCheckbox,
    MatDatepickerModule,
    MatProgressSpinner,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './create-api-key-dialog.html',
  styleUrl: './create-api-key-dialog.scss',
})
export class CreateApiKeyDialog {
  private readonly api = inject(ApiKeysApi);
  private readonly dialogRef = inject<MatDialogRef<CreateApiKeyDialog, CreatedApiKey>>(MatDialogRef);
  private readonly destroyRef = inject(DestroyRef);

  // A copy: in the Vitest build a field initialised with the imported binding itself read undefined.
  protected readonly scopeOptions = [...SCOPES];
  protected readonly nameMax = NAME_MAX;
  protected readonly minDate = new Date(Date.now() + DAY);
  protected readonly maxDate = new Date(Date.now() + 365 * DAY);

  protected readonly form = new FormGroup({
    name: new FormControl('', { nonNullable: true, validators: [nameValidator] }),
    expiry: new FormControl<ExpiryChoice>('90', { nonNullable: true }),
    date: new FormControl<Date | null>(null),
    scopes: new FormGroup(Object.fromEntries(SCOPES.map((s) => [s.value, new FormControl(s.byDefault, { nonNullable: true })])), {
      validators: atLeastOne,
    }),
  });

  protected readonly pending = signal(false);
  protected readonly serverError = signal<string | null>(null);
  private readonly formStatus = toSignal(this.form.statusChanges.pipe(startWith(this.form.status)), { requireSync: true });
  private readonly expiryChoice = toSignal(this.form.controls.expiry.valueChanges.pipe(startWith(this.form.controls.expiry.value)), {
    requireSync: true,
  });
  protected readonly showDate = computed(() => this.expiryChoice() === 'date');
  protected readonly canSubmit = computed(() => this.formStatus() === 'VALID' && !this.pending());

  constructor() {
    // A date is required only when "on a date" is chosen.
    this.form.controls.expiry.valueChanges.pipe(takeUntilDestroyed()).subscribe((choice) => {
      const date = this.form.controls.date;
      date.setValidators(choice === 'date' ? [Validators.required] : []);
      date.updateValueAndValidity();
    });
  }

  protected expiresAt(): string | null {
    const { expiry, date } = this.form.getRawValue();
    if (expiry === 'never') return null;
    if (expiry === 'date') {
      // End of the chosen day in the viewer's own time zone.
      const end = new Date(date!);
      end.setHours(23, 59, 59, 0);
      return end.toISOString();
    }
    return new Date(Date.now() + Number(expiry) * DAY).toISOString();
  }

  protected submit(): void {
    if (!this.canSubmit()) return;
    this.pending.set(true);
    this.serverError.set(null);
    const raw = this.form.getRawValue();
    const scopes = SCOPES.map((s) => s.value).filter((s) => raw.scopes[s]) as Scope[];
    this.api
      .create({ name: raw.name.trim(), expires_at: this.expiresAt(), scopes })
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe({
        next: (created) => this.dialogRef.close(created),
        error: (error: unknown) => {
          this.pending.set(false);
          const problem = problemOf(error);
          const nameError = problem.errors?.find((e) => e.field === 'name');
          if (problem.code === 'duplicate_name' || nameError) {
            this.form.controls.name.setErrors({
              server: problem.code === 'duplicate_name' ? problem.detail : `Name ${nameError!.message}`,
            });
            this.form.controls.name.markAsTouched();
          } else {
            this.serverError.set(problem.detail ?? problem.title);
          }
        },
      });
  }
}
