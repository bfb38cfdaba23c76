import { ChangeDetectionStrategy, Component, DestroyRef, inject, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { AbstractControl, FormControl, FormGroup, ReactiveFormsModule, ValidationErrors, Validators } from '@angular/forms';
import { MatButton } from '@angular/material/button';
import { MatCheckbox } from '@angular/material/checkbox';
import { MatDialog } from '@angular/material/dialog';
import { MatError, MatFormField, MatHint, MatLabel, MatSuffix } from '@angular/material/form-field';
import { MatIcon } from '@angular/material/icon';
import { MatInput } from '@angular/material/input';
import { MatProgressBar } from '@angular/material/progress-bar';
import { MatSlideToggle } from '@angular/material/slide-toggle';
import { MatSnackBar } from '@angular/material/snack-bar';
import { TranslocoPipe } from '@jsverse/transloco';
import { filter, switchMap } from 'rxjs';
import { Session } from '../core/session';
import { I18n } from '../i18n/i18n';
import { ALL_SCOPES as SCOPES, OPT_IN_SCOPES, problemOf, Scope } from '../settings/api-keys/api-keys.api';
import { AdminApi, AdminKeyPolicy, KeyPolicyBody } from './admin.api';
import { PolicyChange, PolicyConfirmData, PolicyConfirmDialog } from './policy-confirm-dialog';

/** Scopes only ever given on request (never a default): the administration scopes. */
const OPT_IN: readonly string[] = [...OPT_IN_SCOPES];

const LIMITS = {
  max_lifetime_days: [1, 36500],
  max_keys_per_user: [1, 100000],
  expiry_warning_days: [1, 90],
} as const;

function scopesGroup(): FormGroup<{ [scope: string]: FormControl<boolean> }> {
  return new FormGroup<{ [scope: string]: FormControl<boolean> }>(
    Object.fromEntries(SCOPES.map((s) => [s.value, new FormControl(false, { nonNullable: true })])),
    { validators: (group) => (Object.values((group as FormGroup).getRawValue()).some(Boolean) ? null : { noScope: true }) },
  );
}

/** The warning cannot start before a key may even exist: at most the maximum lifetime. */
function warningWithinLifetime(form: AbstractControl): ValidationErrors | null {
  const { max_lifetime_days: lifetime, expiry_warning_days: warning } = (form as FormGroup).getRawValue() as Record<string, number | null>;
  return lifetime && warning && Number(warning) > Number(lifetime) ? { warningBeyondLifetime: true } : null;
}

/** Default scopes must be allowed ones. */
function defaultsAllowed(form: AbstractControl): ValidationErrors | null {
  const { allowed_scopes: allowed, default_scopes: defaults } = (form as FormGroup).getRawValue() as Record<
    'allowed_scopes' | 'default_scopes',
    Record<string, boolean>
  >;
  return Object.keys(defaults).some((scope) => defaults[scope] && !allowed[scope]) ? { defaultNotAllowed: true } : null;
}

const checked = (scopes: Record<string, boolean>) => SCOPES.map((s) => s.value).filter((s) => scopes[s]) as Scope[];

/** Admin → Policy: the rules for new keys, changed after a confirmation that says what happens to existing keys. */
@Component({
  selector: 'app-admin-policy-page',
  imports: [
    ReactiveFormsModule,
    MatFormField,
    MatLabel,
    MatHint,
    MatError,
    MatSuffix,
    MatInput,
    MatCheckbox,
    MatSlideToggle,
    MatButton,
    MatIcon,
    MatProgressBar,
    TranslocoPipe,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './policy-page.html',
  styleUrl: './admin-page.scss',
  styles: `
    form {
      display: grid;
      gap: 8px;
      max-width: 640px;
    }
    fieldset {
      border: 1px solid var(--mat-sys-outline-variant);
      border-radius: 8px;
      padding: 8px 12px;
      margin: 0;
      display: grid;
    }
    legend {
      padding: 0 4px;
      font: var(--mat-sys-label-large);
    }
    .error {
      color: var(--mat-sys-error);
      margin: 4px 0;
    }
    .actions {
      display: flex;
      gap: 8px;
      justify-content: flex-end;
    }
    .source {
      font: var(--mat-sys-body-small);
    }
    .toggle {
      margin: 8px 0;
    }
  `,
})
export class PolicyPage {
  private readonly api = inject(AdminApi);
  private readonly dialog = inject(MatDialog);
  private readonly snackBar = inject(MatSnackBar);
  private readonly destroyRef = inject(DestroyRef);
  protected readonly i18n = inject(I18n);
  protected readonly session = inject(Session);

  protected readonly scopes = SCOPES;
  protected readonly optIn = OPT_IN;
  protected readonly limits = LIMITS;
  protected readonly policy = signal<AdminKeyPolicy | null>(null);
  protected readonly error = signal<string | null>(null);
  protected readonly saving = signal(false);
  protected readonly serverError = signal<string | null>(null);

  protected readonly form = new FormGroup(
    {
      max_lifetime_days: new FormControl<number | null>(null, this.numberValidators('max_lifetime_days')),
      expiry_required: new FormControl(false, { nonNullable: true }),
      max_keys_per_user: new FormControl<number | null>(null, this.numberValidators('max_keys_per_user')),
      expiry_warning_days: new FormControl<number | null>(null, this.numberValidators('expiry_warning_days')),
      allowed_scopes: scopesGroup(),
      default_scopes: scopesGroup(),
    },
    { validators: [defaultsAllowed, warningWithinLifetime] },
  );

  constructor() {
    for (const scope of OPT_IN) this.form.controls.default_scopes.controls[scope]?.disable();
    if (!this.session.canAdminister()) this.form.disable();
    this.load();
  }

  private numberValidators(field: keyof typeof LIMITS) {
    const [min, max] = LIMITS[field];
    return [Validators.required, Validators.min(min), Validators.max(max), Validators.pattern(/^\d+$/)];
  }

  protected load(): void {
    this.error.set(null);
    this.api
      .policy()
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe({
        next: (policy) => this.show(policy),
        error: (error: unknown) => this.error.set(this.i18n.problem(problemOf(error), this.i18n.t('common.tryLater'))),
      });
  }

  private show(policy: AdminKeyPolicy): void {
    this.policy.set(policy);
    const flags = (list: readonly string[]) => Object.fromEntries(SCOPES.map((s) => [s.value, list.includes(s.value)]));
    this.form.reset({
      max_lifetime_days: policy.max_lifetime_days,
      expiry_required: policy.expiry_required,
      max_keys_per_user: policy.max_keys_per_user,
      expiry_warning_days: policy.expiry_warning_days,
      allowed_scopes: flags(policy.allowed_scopes),
      default_scopes: flags(policy.default_scopes),
    });
  }

  private body(): KeyPolicyBody {
    const raw = this.form.getRawValue();
    return {
      max_lifetime_days: Number(raw.max_lifetime_days),
      expiry_required: raw.expiry_required,
      max_keys_per_user: Number(raw.max_keys_per_user),
      expiry_warning_days: Number(raw.expiry_warning_days),
      allowed_scopes: checked(raw.allowed_scopes),
      default_scopes: checked(raw.default_scopes),
    };
  }

  /** Each changed rule, before and after, and what it means for the keys that already exist. */
  changes(before: KeyPolicyBody, after: KeyPolicyBody): PolicyChange[] {
    const t = this.i18n.t;
    const days = (n: number) => this.i18n.plural('createDialog.days', n);
    const yesNo = (b: boolean) => t(b ? 'admin.policy.yes' : 'admin.policy.no');
    const list = (scopes: readonly string[]) => (scopes.length ? scopes.join(', ') : t('common.none'));
    const changes: PolicyChange[] = [];
    if (before.max_lifetime_days !== after.max_lifetime_days)
      changes.push({
        label: t('admin.policy.maxLifetime'),
        before: days(before.max_lifetime_days),
        after: days(after.max_lifetime_days),
        effect: t(
          after.max_lifetime_days < before.max_lifetime_days
            ? 'admin.policy.effects.lifetimeShorter'
            : 'admin.policy.effects.lifetimeLonger',
          { days: this.i18n.number(after.max_lifetime_days) },
        ),
      });
    if (before.expiry_required !== after.expiry_required)
      changes.push({
        label: t('admin.policy.expiryRequired'),
        before: yesNo(before.expiry_required),
        after: yesNo(after.expiry_required),
        effect: t(after.expiry_required ? 'admin.policy.effects.expiryRequired' : 'admin.policy.effects.expiryOptional'),
      });
    if (before.max_keys_per_user !== after.max_keys_per_user)
      changes.push({
        label: t('admin.policy.maxKeys'),
        before: this.i18n.number(before.max_keys_per_user),
        after: this.i18n.number(after.max_keys_per_user),
        effect: t(after.max_keys_per_user < before.max_keys_per_user ? 'admin.policy.effects.fewerKeys' : 'admin.policy.effects.moreKeys', {
          count: this.i18n.number(after.max_keys_per_user),
        }),
      });
    if (before.expiry_warning_days !== after.expiry_warning_days)
      changes.push({
        label: t('admin.policy.warningDays'),
        before: days(before.expiry_warning_days),
        after: days(after.expiry_warning_days),
        effect: t('admin.policy.effects.warning', { days: this.i18n.number(after.expiry_warning_days) }),
      });
    const removed = before.allowed_scopes.filter((s) => !after.allowed_scopes.includes(s));
    if (list(before.allowed_scopes) !== list(after.allowed_scopes))
      changes.push({
        label: t('admin.policy.allowedScopes'),
        before: list(before.allowed_scopes),
        after: list(after.allowed_scopes),
        effect: removed.length
          ? t('admin.policy.effects.scopesRemoved', { scopes: removed.join(', ') })
          : t('admin.policy.effects.scopesAdded'),
      });
    if (list(before.default_scopes) !== list(after.default_scopes))
      changes.push({
        label: t('admin.policy.defaultScopes'),
        before: list(before.default_scopes),
        after: list(after.default_scopes),
        effect: t('admin.policy.effects.defaults'),
      });
    return changes;
  }

  protected save(): void {
    const current = this.policy();
    if (!current || this.form.invalid || this.saving()) {
      this.form.markAllAsTouched();
      return;
    }
    const body = this.body();
    const changes = this.changes(current, body);
    if (changes.length === 0) {
      this.snackBar.open(this.i18n.t('admin.policy.unchanged'), this.i18n.t('common.dismiss'), { duration: 4000 });
      return;
    }
    this.serverError.set(null);
    this.dialog
      .open<PolicyConfirmDialog, PolicyConfirmData, boolean>(PolicyConfirmDialog, {
        data: { changes },
        width: '560px',
        maxWidth: '95vw',
      })
      .afterClosed()
      .pipe(
        filter(Boolean),
        switchMap(() => {
          this.saving.set(true);
          return this.api.updatePolicy(body);
        }),
        takeUntilDestroyed(this.destroyRef),
      )
      .subscribe({
        next: (policy) => {
          this.saving.set(false);
          this.show(policy);
          this.snackBar.open(this.i18n.t('admin.policy.saved'), this.i18n.t('common.dismiss'), { duration: 5000 });
        },
        error: (error: unknown) => {
          this.saving.set(false);
          const problem = problemOf(error);
          // In English the server's rules are shown as it words them, field by field.
          const fields = this.i18n.lang() === 'en' ? (problem.errors ?? []).map((e) => `${e.field} ${e.message}`) : [];
          this.serverError.set([this.i18n.problem(problem), ...fields].join(' '));
        },
      });
  }

  protected reset(): void {
    const policy = this.policy();
    if (policy) this.show(policy);
  }
}
