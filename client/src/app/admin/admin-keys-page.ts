import { SelectionModel } from '@angular/cdk/collections';
import { ChangeDetectionStrategy, Component, computed, DestroyRef, inject, signal } from '@angular/core';
import { takeUntilDestroyed, toSignal } from '@angular/core/rxjs-interop';
import { BreakpointObserver } from '@angular/cdk/layout';
import { FormControl, FormGroup, ReactiveFormsModule } from '@angular/forms';
import { MatButton, MatIconButton } from '@angular/material/button';
import { MatCheckbox } from '@angular/material/checkbox';
import { MatDialog } from '@angular/material/dialog';
import { MatFormField, MatLabel } from '@angular/material/form-field';
import { MatIcon } from '@angular/material/icon';
import { MatInput } from '@angular/material/input';
import { MatPaginator, PageEvent } from '@angular/material/paginator';
import { MatProgressBar } from '@angular/material/progress-bar';
import { MatOption, MatSelect } from '@angular/material/select';
import { MatSnackBar } from '@angular/material/snack-bar';
import { MatSort, MatSortHeader, Sort } from '@angular/material/sort';
import { MatTableModule } from '@angular/material/table';
import { MatTooltip } from '@angular/material/tooltip';
import { TranslocoPipe } from '@jsverse/transloco';
import { debounceTime, filter, map, Subscription, switchMap } from 'rxjs';
import { KeyDetailsData, KeyDetailsSheet } from '../activity/key-details-sheet';
import { Session } from '../core/session';
import { I18n } from '../i18n/i18n';
import { problemOf } from '../settings/api-keys/api-keys.api';
import { keyStatus } from '../settings/api-keys/key-status';
import { Clock } from '../shared/time/clock';
import { TimeAgo } from '../shared/time/time-ago';
import { AdminApi, AdminApiKey, AdminKeySort, KeyStatusFilter } from './admin.api';
import { RevokeDialog, RevokeDialogData } from './revoke-dialog';

const STATUSES: KeyStatusFilter[] = ['active', 'expiring', 'expired', 'rotated'];

/**
 * Admin → Keys: every user's keys, filtered, sorted and paged by the server (cursor pages with a
 * total); revoke one or many with a reason; a key's side sheet with its usage and events.
 */
@Component({
  selector: 'app-admin-keys-page',
  imports: [
    ReactiveFormsModule,
    MatTableModule,
    MatSort,
    MatSortHeader,
    MatPaginator,
    MatCheckbox,
    MatButton,
    MatIconButton,
    MatIcon,
    MatTooltip,
    MatFormField,
    MatLabel,
    MatInput,
    MatSelect,
    MatOption,
    MatProgressBar,
    TimeAgo,
    TranslocoPipe,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './admin-keys-page.html',
  styleUrl: './admin-page.scss',
  styles: `
    .toolbar {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 8px;
      min-height: 48px;
    }
    .toolbar .count {
      flex: 1;
    }
    .select {
      width: 48px;
    }
    .actions {
      text-align: end;
      white-space: nowrap;
    }
    .name {
      font-weight: 500;
      overflow-wrap: anywhere;
      max-width: 16rem;
    }
    @media (max-width: 700px) {
      .select {
        width: 40px;
      }
      code {
        white-space: normal;
        overflow-wrap: anywhere;
      }
    }
    .destructive {
      --mat-button-filled-container-color: var(--mat-sys-error);
      --mat-button-filled-label-text-color: var(--mat-sys-on-error);
    }
  `,
})
export class AdminKeysPage {
  private readonly api = inject(AdminApi);
  private readonly dialog = inject(MatDialog);
  private readonly snackBar = inject(MatSnackBar);
  private readonly destroyRef = inject(DestroyRef);
  private readonly clock = inject(Clock);
  protected readonly i18n = inject(I18n);
  protected readonly session = inject(Session);

  protected readonly statuses = STATUSES;
  protected readonly filters = new FormGroup({
    user: new FormControl('', { nonNullable: true }),
    q: new FormControl('', { nonNullable: true }),
    status: new FormControl<KeyStatusFilter | ''>('', { nonNullable: true }),
  });

  protected readonly keys = signal<AdminApiKey[]>([]);
  protected readonly total = signal(0);
  protected readonly loading = signal(true);
  protected readonly error = signal<string | null>(null);
  protected readonly sort = signal<AdminKeySort>('created_at');
  protected readonly pageSize = signal(25);
  protected readonly pageIndex = signal(0);
  /** The `after` cursor of each page reached so far (page 0 has none). */
  private cursors: Array<string | undefined> = [undefined];
  private request?: Subscription;

  protected readonly selection = new SelectionModel<number>(true, []);
  protected readonly selected = signal<number[]>([]);
  protected readonly allSelected = computed(() => this.keys().length > 0 && this.keys().every((k) => this.selected().includes(k.id)));

  /** Phones keep the name (with its owner), the status and the actions. */
  private readonly narrow = toSignal(
    inject(BreakpointObserver)
      .observe('(max-width: 700px)')
      .pipe(map((s) => s.matches)),
    { initialValue: false },
  );
  protected readonly columns = computed(() => [
    ...(this.session.canAdminister() ? ['select'] : []),
    'name',
    ...(this.narrow() ? [] : ['owner']),
    'status',
    ...(this.narrow() ? [] : ['created_at', 'last_used_at']),
    'actions',
  ]);
  protected readonly rows = computed(() => {
    const now = this.clock.now();
    return this.keys().map((key) => ({ key, status: keyStatus(key, now, this.i18n.t) }));
  });

  constructor() {
    this.selection.changed.pipe(takeUntilDestroyed()).subscribe(() => this.selected.set([...this.selection.selected]));
    this.filters.valueChanges.pipe(debounceTime(300), takeUntilDestroyed()).subscribe(() => this.firstPage());
    this.load();
  }

  protected firstPage(): void {
    this.cursors = [undefined];
    this.pageIndex.set(0);
    this.load();
  }

  protected load(): void {
    const { user, q, status } = this.filters.getRawValue();
    this.loading.set(true);
    this.error.set(null);
    this.request?.unsubscribe();
    const index = this.pageIndex();
    this.request = this.api
      .keys({ user, q, status: status || undefined, sort: this.sort(), limit: this.pageSize(), after: this.cursors[index] })
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe({
        next: (page) => {
          this.keys.set(page.items);
          this.total.set(page.total);
          this.cursors[index + 1] = page.next_cursor ?? undefined;
          this.selection.clear();
          this.loading.set(false);
        },
        error: (error: unknown) => {
          this.error.set(this.i18n.problem(problemOf(error), this.i18n.t('common.tryLater')));
          this.loading.set(false);
        },
      });
  }

  protected sortBy(sort: Sort, header: MatSort): void {
    // The server sorts newest (or most recently used) first only: a second click keeps that order.
    if (sort.direction !== 'desc') {
      header.active = sort.active;
      header.direction = 'desc';
    }
    this.sort.set(sort.active as AdminKeySort);
    this.firstPage();
  }

  protected page(event: PageEvent): void {
    if (event.pageSize !== this.pageSize()) {
      this.pageSize.set(event.pageSize);
      this.firstPage();
      return;
    }
    // Cursor pages: forward only to a page whose cursor is known, back to any page seen.
    this.pageIndex.set(event.pageIndex);
    this.load();
  }

  protected toggleAll(): void {
    if (this.allSelected()) this.selection.clear();
    else this.selection.select(...this.keys().map((k) => k.id));
  }

  protected owner(key: AdminApiKey): string {
    return key.username ?? key.user_id;
  }

  protected openDetails(key: AdminApiKey): void {
    const data: KeyDetailsData = {
      id: key.id,
      name: key.name,
      key_hint: key.key_hint,
      owner: this.owner(key),
      events: (id) => this.api.audit({ key_id: id, limit: 10 }),
      // Any user's key: the admin usage route (the personal one serves owners only).
      usage: (id, days) => this.api.usage(id, days),
    };
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

  protected revoke(keys: AdminApiKey[]): void {
    if (keys.length === 0) return;
    const data: RevokeDialogData = { keys: keys.map((k) => ({ name: k.name, owner: this.owner(k) })) };
    const ids = keys.map((k) => k.id);
    this.dialog
      .open<RevokeDialog, RevokeDialogData, string>(RevokeDialog, { data, width: '520px', maxWidth: '95vw' })
      .afterClosed()
      .pipe(
        filter((reason): reason is string => !!reason),
        switchMap((reason) => this.api.revokeMany(ids, reason)),
        takeUntilDestroyed(this.destroyRef),
      )
      .subscribe({
        next: (result) => {
          const message =
            result.not_found.length > 0
              ? this.i18n.t('admin.revoke.doneSome', { revoked: result.revoked.length, missing: result.not_found.length })
              : this.i18n.t('admin.revoke.done', { count: result.revoked.length });
          this.snackBar.open(message, this.i18n.t('common.dismiss'), { duration: 6000 });
          this.load();
        },
        error: (error: unknown) => {
          const reason = this.i18n.problem(problemOf(error));
          this.snackBar.open(this.i18n.t('admin.revoke.failed', { reason }), this.i18n.t('common.dismiss'), { duration: 8000 });
        },
      });
  }

  protected selectedKeys(): AdminApiKey[] {
    const ids = this.selected();
    return this.keys().filter((k) => ids.includes(k.id));
  }
}
