import { CdkCopyToClipboard } from '@angular/cdk/clipboard';
import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { AbstractControl, FormControl, FormGroup, ReactiveFormsModule, ValidationErrors, Validators } from '@angular/forms';
import { MatButton } from '@angular/material/button';
import { MatCheckbox } from '@angular/material/checkbox';
import { MatDialogActions, MatDialogClose, MatDialogContent, MatDialogRef, MatDialogTitle } from '@angular/material/dialog';
import { MatError, MatFormField, MatHint, MatInput, MatLabel } from '@angular/material/input';
import { MatIcon } from '@angular/material/icon';
import { TranslocoPipe } from '@jsverse/transloco';
import { I18n } from '../i18n/i18n';
import { problemOf } from '../settings/api-keys/api-keys.api';
import { type CreatedWebhook, WEBHOOK_EVENTS, type WebhookEvent, WebhooksApi } from './webhooks.api';

const EVENTS = Object.keys(WEBHOOK_EVENTS) as WebhookEvent[];

function atLeastOne(group: AbstractControl): ValidationErrors | null {
  return Object.values((group as FormGroup).controls).some((c) => c.value === true) ? null : { noEvent: true };
}

/**
 * Adds an endpoint, then shows its signing secret once (the dialog cannot be dismissed by the
 * backdrop or Escape while the secret is on screen). Closes with the new endpoint.
 */
@Component({
  selector: 'app-add-webhook-dialog',
  imports: [
    ReactiveFormsModule,
    MatDialogTitle,
    MatDialogContent,
    MatDialogActions,
    MatDialogClose,
    MatButton,
    MatCheckbox,
    MatFormField,
    MatLabel,
    MatInput,
    MatHint,
    MatError,
    MatIcon,
    CdkCopyToClipboard,
    TranslocoPipe,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @if (created(); as hook) {
      <h2 mat-dialog-title>{{ 'webhooks.secretTitle' | transloco }}</h2>
      <mat-dialog-content>
        <p class="warning" role="note">
          <mat-icon aria-hidden="true">warning</mat-icon>
          <span>{{ 'webhooks.secretWarning' | transloco }}</span>
        </p>
        <p class="label" id="secret-label">{{ hook.url }}</p>
        <code class="secret" aria-labelledby="secret-label" data-testid="webhook-secret">{{ hook.secret }}</code>
      </mat-dialog-content>
      <mat-dialog-actions align="end">
        <button mat-stroked-button type="button" [cdkCopyToClipboard]="hook.secret" (cdkCopyToClipboardCopied)="copied.set($event)">
          <mat-icon>{{ copied() ? 'check' : 'content_copy' }}</mat-icon>
          {{ (copied() ? 'createdDialog.copied' : 'createdDialog.copy') | transloco }}
        </button>
        <button mat-flat-button type="button" [mat-dialog-close]="hook" cdkFocusInitial>{{ 'common.close' | transloco }}</button>
      </mat-dialog-actions>
    } @else {
      <h2 mat-dialog-title>{{ 'webhooks.addTitle' | transloco }}</h2>
      <form [formGroup]="form" (ngSubmit)="submit()" id="add-webhook-form">
        <mat-dialog-content>
          <mat-form-field appearance="outline" class="wide">
            <mat-label>{{ 'webhooks.url' | transloco }}</mat-label>
            <input
              matInput
              formControlName="url"
              type="url"
              inputmode="url"
              autocomplete="off"
              placeholder="https://hooks.example.com/api-keys"
            />
            <mat-hint>{{ 'webhooks.urlHint' | transloco }}</mat-hint>
            @if (form.controls.url.hasError('required')) {
              <mat-error>{{ 'webhooks.urlRequired' | transloco }}</mat-error>
            } @else if (form.controls.url.hasError('pattern')) {
              <mat-error>{{ 'webhooks.urlInvalid' | transloco }}</mat-error>
            } @else if (form.controls.url.hasError('server')) {
              <mat-error>{{ form.controls.url.getError('server') }}</mat-error>
            }
          </mat-form-field>
          <mat-form-field appearance="outline" class="wide">
            <mat-label>{{ 'webhooks.description' | transloco }}</mat-label>
            <input matInput formControlName="description" maxlength="200" autocomplete="off" />
          </mat-form-field>
          <fieldset formGroupName="events">
            <legend>{{ 'webhooks.events' | transloco }}</legend>
            @for (event of events; track event) {
              <mat-checkbox [formControlName]="event">
                {{ 'events.types.' + event | transloco }} <code class="event-id">{{ event }}</code>
              </mat-checkbox>
            }
            @if (form.controls.events.invalid) {
              <p class="error" role="alert">{{ 'webhooks.noEvent' | transloco }}</p>
            }
          </fieldset>
          @if (error()) {
            <p class="error" role="alert">{{ error() }}</p>
          }
        </mat-dialog-content>
        <mat-dialog-actions align="end">
          <button mat-button type="button" mat-dialog-close>{{ 'common.cancel' | transloco }}</button>
          <button mat-flat-button type="submit" [disabled]="saving()">{{ 'webhooks.add' | transloco }}</button>
        </mat-dialog-actions>
      </form>
    }
  `,
  styles: `
    .wide {
      width: 100%;
    }
    fieldset {
      border: 0;
      padding: 0;
      margin: 8px 0 0;
      display: flex;
      flex-direction: column;
    }
    legend {
      font: var(--mat-sys-title-small);
      margin-bottom: 4px;
    }
    .event-id {
      font-size: 0.8rem;
      color: var(--mat-sys-on-surface-variant);
    }
    .error {
      color: var(--mat-sys-error);
    }
    .warning {
      display: flex;
      gap: 8px;
      align-items: flex-start;
      padding: 12px;
      border-radius: 8px;
      background: var(--mat-sys-tertiary-container);
      color: var(--mat-sys-on-tertiary-container);
      margin-top: 0;
    }
    .label {
      font: var(--mat-sys-label-large);
      word-break: break-all;
    }
    .secret {
      display: block;
      padding: 12px;
      border-radius: 8px;
      background: var(--mat-sys-surface-container-highest);
      word-break: break-all;
      user-select: all;
    }
  `,
})
export class AddWebhookDialog {
  private readonly api = inject(WebhooksApi);
  private readonly i18n = inject(I18n);
  private readonly ref = inject(MatDialogRef<AddWebhookDialog, CreatedWebhook>);

  protected readonly events = EVENTS;
  protected readonly saving = signal(false);
  protected readonly error = signal<string | null>(null);
  protected readonly created = signal<CreatedWebhook | null>(null);
  protected readonly copied = signal(false);
  protected readonly form = new FormGroup({
    url: new FormControl('', { nonNullable: true, validators: [Validators.required, Validators.pattern(/^https?:\/\/\S+$/i)] }),
    description: new FormControl('', { nonNullable: true }),
    events: new FormGroup(Object.fromEntries(EVENTS.map((e) => [e, new FormControl(true, { nonNullable: true })])), {
      validators: atLeastOne,
    }),
  });

  protected submit(): void {
    this.form.markAllAsTouched();
    if (this.form.invalid || this.saving()) return;
    const raw = this.form.getRawValue();
    this.saving.set(true);
    this.error.set(null);
    this.api
      .create({
        url: raw.url.trim(),
        description: raw.description.trim() || undefined,
        events: EVENTS.filter((e) => (raw.events as Record<string, boolean>)[e]),
      })
      .subscribe({
        next: (hook) => {
          this.saving.set(false);
          this.created.set(hook);
          // The secret is on screen now: only the explicit Close may end the dialog.
          this.ref.disableClose = true;
        },
        error: (error: unknown) => {
          this.saving.set(false);
          const problem = problemOf(error);
          const urlError = problem.errors?.find((e) => e.field === 'url');
          if (urlError) this.form.controls.url.setErrors({ server: urlError.message });
          else this.error.set(this.i18n.problem(problem));
        },
      });
  }
}
