import {
  afterNextRender,
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  ElementRef,
  inject,
  Injector,
  signal,
  viewChildren,
} from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { MatButton } from '@angular/material/button';
import { MatDialog } from '@angular/material/dialog';
import { MatIcon } from '@angular/material/icon';
import { MatProgressBar } from '@angular/material/progress-bar';
import { MatSnackBar } from '@angular/material/snack-bar';
import { TranslocoPipe } from '@jsverse/transloco';
import { filter, switchMap } from 'rxjs';
import { KeyDetailsData, KeyDetailsSheet } from '../../activity/key-details-sheet';
import { I18n } from '../../i18n/i18n';
import { ConfirmDialog, ConfirmDialogData } from '../../shared/confirm-dialog/confirm-dialog';
import { ApiKeyCreatedDialog, ApiKeyCreatedDialogData } from './api-key-created-dialog';
import { ApiKey, ApiKeysApi, CreatedApiKey, problemOf } from './api-keys.api';
import { ApiKeysTable } from './api-keys-table';
import { CreateApiKeyDialog } from './create-api-key-dialog';
import { LlmKeyCard } from './llm-key-card';
import { RotateApiKeyDialog, RotateApiKeyDialogData } from './rotate-api-key-dialog';

type LoadState = { kind: 'loading' } | { kind: 'ready' } | { kind: 'error'; message: string };

/** Settings → API keys: owns the HTTP calls and the dialogs; the table only displays. */
@Component({
  selector: 'app-api-keys-page',
  imports: [ApiKeysTable, LlmKeyCard, MatButton, MatIcon, MatProgressBar, TranslocoPipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './api-keys-page.html',
  styleUrl: './api-keys-page.scss',
})
export class ApiKeysPage {
  private readonly api = inject(ApiKeysApi);
  private readonly dialog = inject(MatDialog);
  private readonly snackBar = inject(MatSnackBar);
  private readonly destroyRef = inject(DestroyRef);
  private readonly injector = inject(Injector);
  private readonly i18n = inject(I18n);
  /** The header's and the empty state's "Create API key" buttons (one is on screen at a time). */
  private readonly createButtons = viewChildren('createButton', { read: ElementRef });

  protected readonly state = signal<LoadState>({ kind: 'loading' });
  protected readonly keys = signal<ApiKey[]>([]);

  constructor() {
    this.load();
  }

  protected load(): void {
    this.state.set({ kind: 'loading' });
    this.api
      .list()
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe({
        next: (keys) => {
          this.keys.set(keys);
          this.state.set({ kind: 'ready' });
        },
        // One inline error with a retry, never a toast per failure.
        error: (error: unknown) =>
          this.state.set({ kind: 'error', message: this.i18n.problem(problemOf(error), this.i18n.t('apiKeys.loadErrorFallback')) }),
      });
  }

  protected openCreate(): void {
    this.dialog
      .open<CreateApiKeyDialog, void, CreatedApiKey>(CreateApiKeyDialog, { width: '560px', maxWidth: '95vw', autoFocus: 'first-tabbable' })
      .afterClosed()
      .pipe(
        filter((created): created is CreatedApiKey => !!created),
        switchMap((created) => {
          const { key, ...listed } = created;
          this.keys.update((keys) => [listed, ...keys]);
          return this.dialog
            .open<ApiKeyCreatedDialog, ApiKeyCreatedDialogData>(ApiKeyCreatedDialog, {
              data: { name: created.name, key },
              disableClose: true,
              width: '560px',
              maxWidth: '95vw',
            })
            .afterClosed();
        }),
        takeUntilDestroyed(this.destroyRef),
      )
      .subscribe(() => this.focusCreateButton());
  }

  /**
   * The element that opened a dialog may be gone when it closes (the empty state's button, a
   * deleted row's button): keep keyboard focus on the page instead of losing it to <body>.
   */
  private focusCreateButton(): void {
    afterNextRender(() => (this.createButtons()[0]?.nativeElement as HTMLElement | undefined)?.focus(), { injector: this.injector });
  }

  /** Rotate: choose a grace period, get the new key once, see the old row as replaced. */
  protected rotate(key: ApiKey): void {
    this.dialog
      .open<RotateApiKeyDialog, RotateApiKeyDialogData, number>(RotateApiKeyDialog, {
        data: { name: key.name },
        width: '520px',
        maxWidth: '95vw',
      })
      .afterClosed()
      .pipe(
        filter((grace): grace is number => typeof grace === 'number'),
        switchMap((grace) => this.api.rotate(key.id, grace)),
        switchMap((rotated) => {
          this.load();
          return this.dialog
            .open<ApiKeyCreatedDialog, ApiKeyCreatedDialogData>(ApiKeyCreatedDialog, {
              data: { name: rotated.name, key: rotated.key },
              disableClose: true,
              width: '560px',
              maxWidth: '95vw',
            })
            .afterClosed();
        }),
        takeUntilDestroyed(this.destroyRef),
      )
      .subscribe({
        next: () => this.focusCreateButton(),
        error: (error: unknown) => {
          const reason = this.i18n.problem(problemOf(error));
          this.snackBar.open(this.i18n.t('apiKeys.rotateFailed', { name: key.name, reason }), this.i18n.t('common.dismiss'), {
            duration: 8000,
          });
        },
      });
  }

  /** The key's side sheet: usage chart and recent events. */
  protected openDetails(key: ApiKey): void {
    const data: KeyDetailsData = { id: key.id, name: key.name, key_hint: key.key_hint };
    this.dialog.open(KeyDetailsSheet, {
      data,
      position: { right: '0', top: '0' },
      height: '100%',
      width: 'min(520px, 100vw)',
      maxWidth: '100vw',
      panelClass: 'side-sheet',
      ariaLabel: this.i18n.t('apiKeys.detailsLabel', { name: key.name }),
    });
  }

  protected confirmDelete(key: ApiKey): void {
    this.dialog
      .open<ConfirmDialog, ConfirmDialogData, boolean>(ConfirmDialog, {
        data: {
          title: this.i18n.t('apiKeys.deleteTitle'),
          message: this.i18n.t('apiKeys.deleteMessage', { name: key.name }),
          confirmLabel: this.i18n.t('common.delete'),
          destructive: true,
        },
        maxWidth: '95vw',
      })
      .afterClosed()
      .pipe(
        filter(Boolean),
        switchMap(() => this.api.remove(key.id)),
        takeUntilDestroyed(this.destroyRef),
      )
      .subscribe({
        next: () => {
          this.keys.update((keys) => keys.filter((k) => k.id !== key.id));
          this.snackBar.open(this.i18n.t('apiKeys.deleted', { name: key.name }), this.i18n.t('common.dismiss'), { duration: 5000 });
          this.focusCreateButton();
        },
        error: (error: unknown) => {
          const problem = problemOf(error);
          if (problem.status === 404) this.keys.update((keys) => keys.filter((k) => k.id !== key.id));
          const reason = this.i18n.problem(problem);
          this.snackBar.open(this.i18n.t('apiKeys.deleteFailed', { name: key.name, reason }), this.i18n.t('common.dismiss'), {
            duration: 8000,
          });
        },
      });
  }
}
