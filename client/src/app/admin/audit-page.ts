import { ChangeDetectionStrategy, Component, computed, DestroyRef, inject, signal } from '@angular/core';
import { takeUntilDestroyed, toSignal } from '@angular/core/rxjs-interop';
import { FormControl, FormGroup, ReactiveFormsModule } from '@angular/forms';
import { MatAnchor, MatButton } from '@angular/material/button';
import { DateAdapter, provideNativeDateAdapter } from '@angular/material/core';
import { MatDatepickerIntl, MatDatepickerModule } from '@angular/material/datepicker';
import { MatFormField, MatLabel, MatSuffix } from '@angular/material/form-field';
import { MatIcon } from '@angular/material/icon';
import { MatInput } from '@angular/material/input';
import { MatProgressBar } from '@angular/material/progress-bar';
import { MatOption, MatSelect } from '@angular/material/select';
import { MatTableModule } from '@angular/material/table';
import { TranslocoPipe } from '@jsverse/transloco';
import { debounceTime, startWith, Subscription } from 'rxjs';
import { EVENT_TYPES } from '../activity/activity.api';
import { describeActor, describeEvent } from '../activity/event-description';
import { I18n } from '../i18n/i18n';
import { problemOf } from '../settings/api-keys/api-keys.api';
import { TranslatedDatepickerIntl } from '../shared/material-intl';
import { TimeAgo } from '../shared/time/time-ago';
import { AdminApi, AdminAuditEvent, AdminAuditQuery } from './admin.api';

const PAGE_SIZE = 50;
const DAY = 86400e3;

/** Admin → Audit log: everyone's events, filtered, page by page (newest first), and the same filter as CSV. */
@Component({
  selector: 'app-admin-audit-page',
  providers: [provideNativeDateAdapter(), { provide: MatDatepickerIntl, useClass: TranslatedDatepickerIntl }],
  imports: [
    ReactiveFormsModule,
    MatTableModule,
    MatFormField,
    MatLabel,
    MatSuffix,
    MatInput,
    MatSelect,
    MatOption,
    MatDatepickerModule,
    MatButton,
    MatAnchor,
    MatIcon,
    MatProgressBar,
    TimeAgo,
    TranslocoPipe,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './audit-page.html',
  styleUrl: './admin-page.scss',
  styles: `
    .pager {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 8px;
      margin-top: 12px;
    }
    .pager .spacer {
      flex: 1;
    }
    .what {
      min-width: 16rem;
      overflow-wrap: anywhere;
    }
  `,
})
export class AuditPage {
  private readonly api = inject(AdminApi);
  private readonly destroyRef = inject(DestroyRef);
  protected readonly i18n = inject(I18n);

  protected readonly types = Object.keys(EVENT_TYPES);
  protected readonly columns = ['when', 'what', 'who', 'with', 'subject', 'from'];
  protected readonly filters = new FormGroup({
    user: new FormControl('', { nonNullable: true }),
    keyId: new FormControl('', { nonNullable: true }),
    type: new FormControl('', { nonNullable: true }),
    from: new FormControl<Date | null>(null),
    to: new FormControl<Date | null>(null),
  });
  private readonly filterValue = toSignal(this.filters.valueChanges.pipe(startWith(this.filters.value)));

  protected readonly events = signal<AdminAuditEvent[]>([]);
  protected readonly loading = signal(true);
  protected readonly error = signal<string | null>(null);
  protected readonly pageIndex = signal(0);
  private cursors: Array<string | undefined> = [undefined];
  protected readonly hasNext = signal(false);
  private request?: Subscription;

  /** The CSV link follows the filter as it is typed. */
  protected readonly csvUrl = computed(() => {
    this.filterValue();
    return this.api.auditCsvUrl(this.query());
  });

  constructor() {
    inject(DateAdapter).setLocale(this.i18n.locale());
    this.filters.valueChanges.pipe(debounceTime(300), takeUntilDestroyed()).subscribe(() => this.firstPage());
    this.load();
  }

  /** The filter as the API takes it: whole days in the viewer's time zone, `to` inclusive. */
  private query(): AdminAuditQuery {
    const { user, keyId, type, from, to } = this.filters.getRawValue();
    const id = Number(keyId);
    const end = to ? new Date(to.getFullYear(), to.getMonth(), to.getDate()).getTime() + DAY : undefined;
    return {
      user: user.trim() || undefined,
      key_id: Number.isInteger(id) && id > 0 ? id : undefined,
      type: (type || undefined) as AdminAuditQuery['type'],
      from: from ? new Date(from.getFullYear(), from.getMonth(), from.getDate()).toISOString() : undefined,
      to: end ? new Date(end).toISOString() : undefined,
    };
  }

  protected firstPage(): void {
    this.cursors = [undefined];
    this.pageIndex.set(0);
    this.load();
  }

  protected go(delta: 1 | -1): void {
    this.pageIndex.update((i) => i + delta);
    this.load();
  }

  protected load(): void {
    const index = this.pageIndex();
    this.loading.set(true);
    this.error.set(null);
    this.request?.unsubscribe();
    this.request = this.api
      .audit({ ...this.query(), limit: PAGE_SIZE, after: this.cursors[index] })
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe({
        next: (page) => {
          this.events.set(page.items);
          this.cursors[index + 1] = page.next_cursor ?? undefined;
          this.hasNext.set(!!page.next_cursor);
          this.loading.set(false);
        },
        error: (error: unknown) => {
          this.error.set(this.i18n.problem(problemOf(error), this.i18n.t('common.tryLater')));
          this.loading.set(false);
        },
      });
  }

  protected describe(event: AdminAuditEvent): string {
    if (event.type === 'policy.updated') return this.i18n.t('admin.audit.policyUpdated');
    return describeEvent(event, this.i18n.t, this.i18n.locale());
  }

  protected actor(event: AdminAuditEvent): string {
    return describeActor(event, this.i18n.t);
  }
}
