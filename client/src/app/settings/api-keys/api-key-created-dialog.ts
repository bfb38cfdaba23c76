import { CdkCopyToClipboard } from '@angular/cdk/clipboard';
import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { MatButton } from '@angular/material/button';
import { MAT_DIALOG_DATA, MatDialogActions, MatDialogClose, MatDialogContent, MatDialogTitle } from '@angular/material/dialog';
import { MatIcon } from '@angular/material/icon';
import { TranslocoPipe } from '@jsverse/transloco';

export interface ApiKeyCreatedDialogData {
  name: string;
  key: string;
}

/**
 * Shows the new key once. Opened with `disableClose`, so neither the backdrop nor Escape can
 * lose the key by accident: only the explicit Close button ends it.
 */
@Component({
  selector: 'app-api-key-created-dialog',
  imports: [MatDialogTitle, MatDialogContent, MatDialogActions, MatDialogClose, MatButton, MatIcon, CdkCopyToClipboard, TranslocoPipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h2 mat-dialog-title>{{ 'createdDialog.title' | transloco }}</h2>
    <mat-dialog-content>
      <p class="warning" role="note">
        <mat-icon aria-hidden="true">warning</mat-icon>
        <span>{{ 'createdDialog.warning' | transloco }}</span>
      </p>
      <p class="label" id="new-key-label">{{ data.name }}</p>
      <code class="key" aria-labelledby="new-key-label" data-testid="new-api-key">{{ data.key }}</code>
      <p class="visually-hidden" aria-live="polite">{{ copied() ? ('createdDialog.copiedAnnouncement' | transloco) : '' }}</p>
    </mat-dialog-content>
    <mat-dialog-actions align="end">
      <button mat-stroked-button type="button" [cdkCopyToClipboard]="data.key" (cdkCopyToClipboardCopied)="copied.set($event)">
        <mat-icon>{{ copied() ? 'check' : 'content_copy' }}</mat-icon>
        {{ (copied() ? 'createdDialog.copied' : 'createdDialog.copy') | transloco }}
      </button>
      <button mat-flat-button type="button" mat-dialog-close cdkFocusInitial>{{ 'common.close' | transloco }}</button>
    </mat-dialog-actions>
  `,
  styles: `
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
      margin-bottom: 4px;
      word-break: break-word;
    }
    .key {
      display: block;
      padding: 12px;
      border-radius: 8px;
      background: var(--mat-sys-surface-container-highest);
      word-break: break-all;
      user-select: all;
      font-size: 0.95rem;
    }
  `,
})
export class ApiKeyCreatedDialog {
  protected readonly data = inject<ApiKeyCreatedDialogData>(MAT_DIALOG_DATA);
  protected readonly copied = signal(false);
}
