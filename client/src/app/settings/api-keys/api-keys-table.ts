import { BreakpointObserver } from '@angular/cdk/layout';
import { ChangeDetectionStrategy, Component, computed, inject, input, output } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { MatIconButton } from '@angular/material/button';
import { MatIcon } from '@angular/material/icon';
import { MatTableModule } from '@angular/material/table';
import { MatTooltip } from '@angular/material/tooltip';
import { TranslocoPipe } from '@jsverse/transloco';
import { map } from 'rxjs';
import { I18n } from '../../i18n/i18n';
import { Clock } from '../../shared/time/clock';
import { exactTime } from '../../shared/time/format-time';
import { TimeAgo } from '../../shared/time/time-ago';
import { ApiKey, SCOPES } from './api-keys.api';
import { keyStatus } from './key-status';

const ALL_COLUMNS = ['name', 'hint', 'scopes', 'created', 'lastUsed', 'status', 'actions'];
const NARROW_COLUMNS = ['name', 'lastUsed', 'status', 'actions'];

/** Presentation only: shows keys, emits the one the person wants to delete. */
@Component({
  selector: 'app-api-keys-table',
  imports: [MatTableModule, MatIconButton, MatIcon, MatTooltip, TimeAgo, TranslocoPipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './api-keys-table.html',
  styleUrl: './api-keys-table.scss',
})
export class ApiKeysTable {
  private readonly clock = inject(Clock);
  private readonly i18n = inject(I18n);
  private readonly narrow = toSignal(
    inject(BreakpointObserver)
      .observe('(max-width: 700px)')
      .pipe(map((s) => s.matches)),
    { initialValue: false },
  );

  readonly keys = input.required<ApiKey[]>();
  readonly deleteKey = output<ApiKey>();
  readonly showKey = output<ApiKey>();
  readonly rotateKey = output<ApiKey>();

  protected readonly columns = computed(() => (this.narrow() ? NARROW_COLUMNS : ALL_COLUMNS));
  protected readonly rows = computed(() => {
    const now = this.clock.now();
    return this.keys().map((key) => ({ key, status: keyStatus(key, now, this.i18n.t) }));
  });

  protected scopeLabels(key: ApiKey): string {
    if (key.scopes.length === SCOPES.length) return this.i18n.t('common.all');
    return key.scopes.length ? key.scopes.join(', ') : this.i18n.t('common.none');
  }

  protected exact(iso: string): string {
    return exactTime(iso, this.i18n.locale());
  }
}
