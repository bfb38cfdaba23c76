import { CdkCopyToClipboard } from '@angular/cdk/clipboard';
import { ChangeDetectionStrategy, Component, computed, DestroyRef, inject, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { MatButton, MatIconButton } from '@angular/material/button';
import { MatCard, MatCardActions, MatCardContent, MatCardHeader, MatCardSubtitle, MatCardTitle } from '@angular/material/card';
import { MatDialog } from '@angular/material/dialog';
import { MatIcon } from '@angular/material/icon';
import { MatProgressSpinner } from '@angular/material/progress-spinner';
import { MatSnackBar } from '@angular/material/snack-bar';
import { MatTooltip } from '@angular/material/tooltip';
import { TranslocoPipe } from '@jsverse/transloco';
import { filter, switchMap, tap } from 'rxjs';
import { I18n } from '../../i18n/i18n';
import { ConfirmDialog, ConfirmDialogData } from '../../shared/confirm-dialog/confirm-dialog';
import { ApiKeysApi, problemOf } from './api-keys.api';

type CardState = { kind: 'loading' } | { kind: 'ready'; key: string } | { kind: 'error'; message: string; unavailable: boolean };

/** The BYOR LLM key: masked by default, show/hide, copy, and rotation behind a confirmation. */
@Component({
  selector: 'app-llm-key-card',
  imports: [
    MatCard,
    MatCardHeader,
    MatCardTitle,
    MatCardSubtitle,
    MatCardContent,
    MatCardActions,
    MatButton,
    MatIconButton,
    MatIcon,
    MatTooltip,
    MatProgressSpinner,
    CdkCopyToClipboard,
    TranslocoPipe,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './llm-key-card.html',
  styleUrl: './llm-key-card.scss',
})
export class LlmKeyCard {
  private readonly api = inject(ApiKeysApi);
  private readonly dialog = inject(MatDialog);
  private readonly snackBar = inject(MatSnackBar);
  private readonly destroyRef = inject(DestroyRef);
  private readonly i18n = inject(I18n);

  protected readonly state = signal<CardState>({ kind: 'loading' });
  protected readonly revealed = signal(false);
  protected readonly copied = signal(false);
  protected readonly refreshing = signal(false);
  protected readonly key = computed(() => {
    const state = this.state();
    return state.kind === 'ready' ? state.key : '';
  });
  /** Enough to recognise the key, never enough to use it. */
  protected readonly masked = computed(() => {
    const key = this.key();
    return key ? `${key.slice(0, 6)}${'•'.repeat(16)}${key.slice(-4)}` : '';
  });

  constructor() {
    this.load();
  }

  protected load(): void {
    this.state.set({ kind: 'loading' });
    this.api
      .llmKey()
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe({
        next: ({ key }) => this.state.set({ kind: 'ready', key }),
        error: (error: unknown) => this.state.set(this.errorState(error)),
      });
  }

  protected confirmRefresh(): void {
    this.dialog
      .open<ConfirmDialog, ConfirmDialogData, boolean>(ConfirmDialog, {
        data: {
          title: this.i18n.t('llmKey.confirmTitle'),
          message: this.i18n.t('llmKey.confirmMessage'),
          confirmLabel: this.i18n.t('llmKey.refresh'),
          destructive: true,
        },
        maxWidth: '95vw',
      })
      .afterClosed()
      .pipe(
        filter(Boolean),
        tap(() => this.refreshing.set(true)),
        switchMap(() => this.api.refreshLlmKey()),
        takeUntilDestroyed(this.destroyRef),
      )
      .subscribe({
        next: ({ key }) => {
          this.refreshing.set(false);
          this.copied.set(false);
          this.state.set({ kind: 'ready', key });
          this.snackBar.open(this.i18n.t('llmKey.refreshed'), this.i18n.t('common.dismiss'), { duration: 6000 });
        },
        error: (error: unknown) => {
          this.refreshing.set(false);
          const reason = this.i18n.problem(problemOf(error));
          this.snackBar.open(this.i18n.t('llmKey.refreshFailed', { reason }), this.i18n.t('common.dismiss'), { duration: 8000 });
        },
      });
  }

  private errorState(error: unknown): CardState {
    const problem = problemOf(error);
    const unavailable = problem.status === 502 || problem.status === 503;
    return {
      kind: 'error',
      unavailable,
      message: unavailable
        ? this.i18n.t('llmKey.unavailable', { detail: this.i18n.lang() === 'en' ? (problem.detail ?? '') : '' }).trim()
        : this.i18n.problem(problem, this.i18n.t('llmKey.loadFailed')),
    };
  }
}
