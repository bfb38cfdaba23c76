import { ChangeDetectionStrategy, Component, computed, DestroyRef, inject, signal } from '@angular/core';
import { takeUntilDestroyed, toSignal } from '@angular/core/rxjs-interop';
import { AbstractControl, FormControl, FormGroup, ReactiveFormsModule, ValidationErrors, Validators } from '@angular/forms';
import { MatButton } from '@angular/material/button';
import { DateAdapter, provideNativeDateAdapter } from '@angular/material/core';
import { MatCheckbox } from '@angular/material/checkbox';
import { MatDatepickerModule } from '@angular/material/datepicker';
import { MatDialogActions, MatDialogClose, MatDialogContent, MatDialogRef, MatDialogTitle } from '@angular/material/dialog';
import { MatError, MatFormField, MatHint, MatLabel, MatSuffix } from '@angular/material/form-field';
import { MatInput } from '@angular/material/input';
import { MatProgressSpinner } from '@angular/material/progress-spinner';
import { MatSelect, MatOption } from '@angular/material/select';
import { MatDatepickerIntl } from '@angular/material/datepicker';
import { TranslocoPipe } from '@jsverse/transloco';
import { startWith } from 'rxjs';
import { Session } from '../../core/session';
import { I18n } from '../../i18n/i18n';
import { TranslatedDatepickerIntl } from '../../shared/material-intl';
import { ApiKeysApi, CreatedApiKey, KeyPolicy, OPT_IN_SCOPES, problemOf, Scope, SCOPES } from './api-keys.api';

export const NAME_MAX = 255;
const DAY = 86400e3;
/** Days from now (as text), a date, or none. */
export type ExpiryChoice = 'never' | 'date' | `${number}`;
/** The lifetimes offered when the policy allows them; its own maximum is offered too. */
const PRESET_DAYS = [30, 90, 365];
/** Used until the policy has loaded, or if it cannot be (the server enforces its own anyway). */
const FALLBACK_MAX_DAYS = 365;

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
  // Dialogs are created under the root injector: the date picker's adapter (and its translated
  // labels) come with the dialog.
  providers: [provideNativeDateAdapter(), { provide: MatDatepickerIntl, useClass: TranslatedDatepickerIntl }],
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
    TranslocoPipe,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './create-api-key-dialog.html',
  styleUrl: './create-api-key-dialog.scss',
})
export class CreateApiKeyDialog {
  private readonly api = inject(ApiKeysApi);
  private readonly dialogRef = inject<MatDialogRef<CreateApiKeyDialog, CreatedApiKey>>(MatDialogRef);
  private readonly destroyRef = inject(DestroyRef);

  private readonly session = inject(Session);
  private readonly i18n = inject(I18n);

  protected readonly nameMax = NAME_MAX;
  protected readonly minDate = new Date(Date.now() + DAY);
  /** The organisation's policy (GET /api/policy): the longest lifetime, whether keys must expire, which scopes. */
  protected readonly policy = signal<KeyPolicy | null>(null);
  protected readonly maxLifetimeDays = computed(() => this.policy()?.max_lifetime_days ?? null);
  private readonly maxDays = computed(() => this.maxLifetimeDays() ?? FALLBACK_MAX_DAYS);
  protected readonly maxDate = computed(() => new Date(Date.now() + this.maxDays() * DAY));
  protected readonly maxDateText = computed(() => this.i18n.date(this.maxDate()));
  protected readonly policyHint = computed(() => this.i18n.plural('createDialog.policyHint', this.maxDays()));

  /** The scopes offered: those the policy allows that the person holds themselves (a key never gets more). */
  protected readonly scopeOptions = computed(() => {
    const allowed = this.policy()?.allowed_scopes as readonly string[] | undefined;
    const held = this.session.user()?.scopes as readonly string[] | undefined;
    return SCOPES.filter((s) => (!allowed || allowed.includes(s.value)) && (!held || held.includes(s.value)));
  });

  protected readonly form = new FormGroup({
    name: new FormControl('', { nonNullable: true, validators: [nameValidator] }),
    expiry: new FormControl<ExpiryChoice>('90', { nonNullable: true }),
    date: new FormControl<Date | null>(null),
    scopes: new FormGroup<{ [scope: string]: FormControl<boolean> }>(
      Object.fromEntries(SCOPES.map((s) => [s.value, new FormControl(!OPT_IN_SCOPES.has(s.value), { nonNullable: true })])),
      { validators: atLeastOne },
    ),
  });

  /** The expiry choices: the presets within the maximum, the maximum itself, a date, and "none" unless keys must expire. */
  protected readonly expiryOptions = computed(() => {
    const max = this.maxDays();
    const days = PRESET_DAYS.filter((d) => d <= max);
    const options: Array<{ value: ExpiryChoice; label: string }> = days.map((d) => ({
      value: `${d}`,
      label: d === 365 ? this.i18n.t('createDialog.oneYear') : this.i18n.plural('createDialog.days', d),
    }));
    if (!days.includes(max) && this.maxLifetimeDays() !== null)
      options.push({ value: `${max}`, label: this.i18n.plural('createDialog.maximumDays', max) });
    options.push({ value: 'date', label: this.i18n.t('createDialog.onDate') });
    if (!this.policy()?.expiry_required) options.push({ value: 'never', label: this.i18n.t('createDialog.noExpiry') });
    return options;
  });

  protected readonly pending = signal(false);
  protected readonly serverError = signal<string | null>(null);
  private readonly formStatus = toSignal(this.form.statusChanges.pipe(startWith(this.form.status)), { requireSync: true });
  private readonly expiryChoice = toSignal(this.form.controls.expiry.valueChanges.pipe(startWith(this.form.controls.expiry.value)), {
    requireSync: true,
  });
  protected readonly showDate = computed(() => this.expiryChoice() === 'date');
  protected readonly canSubmit = computed(() => this.formStatus() === 'VALID' && !this.pending() && this.policyLoaded());
  private readonly policyLoaded = signal(false);

  constructor() {
    // The calendar writes month and day names in the chosen language.
    inject(DateAdapter).setLocale(this.i18n.locale());
    this.api
      .policy()
      .pipe(takeUntilDestroyed())
      .subscribe({
        next: (policy) => this.applyPolicy(policy),
        // Without the policy the dialog offers the usual choices; the server still enforces its own.
        error: () => this.policyLoaded.set(true),
      });
    // A date is required only when "on a date" is chosen.
    this.form.controls.expiry.valueChanges.pipe(takeUntilDestroyed()).subscribe((choice) => {
      const date = this.form.controls.date;
      date.setValidators(choice === 'date' ? [Validators.required] : []);
      date.updateValueAndValidity();
    });
  }

  private applyPolicy(policy: KeyPolicy): void {
    this.policy.set(policy);
    const offered = this.scopeOptions().map((s) => s.value as string);
    const scopes = this.form.controls.scopes;
    for (const scope of Object.keys(scopes.controls)) {
      if (!offered.includes(scope)) (scopes as FormGroup).removeControl(scope);
      else scopes.controls[scope].setValue((policy.default_scopes as readonly string[]).includes(scope));
    }
    // Nothing from the defaults offered (they name scopes this person lacks): start from all offered.
    if (!Object.values(scopes.getRawValue()).some(Boolean)) for (const control of Object.values(scopes.controls)) control.setValue(true);
    const expiry = this.form.controls.expiry;
    if (!this.expiryOptions().some((o) => o.value === expiry.value)) expiry.setValue(this.expiryOptions()[0].value);
    this.policyLoaded.set(true);
  }

  protected expiresAt(): string | null {
    const { expiry, date } = this.form.getRawValue();
    if (expiry === 'never') return null;
    if (expiry === 'date') {
      // End of the chosen day in the viewer's own time zone.
      const end = new Date(date!);
      end.setHours(23, 59, 59, 0);
      // The last day offered ends after the policy's limit: stop at the limit instead.
      return new Date(Math.min(end.getTime(), Date.now() + this.maxDays() * DAY - 60_000)).toISOString();
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
              server:
                problem.code === 'duplicate_name'
                  ? this.i18n.problem(problem)
                  : this.i18n.lang() === 'en'
                    ? this.i18n.t('createDialog.nameServer', { message: nameError!.message })
                    : this.i18n.t('problems.validation_failed'),
            });
            this.form.controls.name.markAsTouched();
          } else {
            this.serverError.set(this.i18n.problem(problem));
          }
        },
      });
  }
}
