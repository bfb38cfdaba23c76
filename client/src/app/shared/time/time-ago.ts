import { ChangeDetectionStrategy, Component, computed, inject, input } from '@angular/core';
import { MatTooltip } from '@angular/material/tooltip';
import { I18n } from '../../i18n/i18n';
import { Clock } from './clock';
import { exactTime, relativeTime } from './format-time';

/** A relative time ("3 minutes ago") with the exact local time on hover and for screen readers. */
@Component({
  selector: 'app-time-ago',
  imports: [MatTooltip],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<time [attr.datetime]="value()" [matTooltip]="exact()" [attr.title]="exact()" tabindex="0">{{ relative() }}</time>`,
  styles: `
    time {
      text-decoration: underline dotted;
      text-underline-offset: 3px;
      cursor: help;
    }
  `,
})
export class TimeAgo {
  private readonly clock = inject(Clock);
  private readonly i18n = inject(I18n);
  readonly value = input.required<string>();
  protected readonly relative = computed(() => relativeTime(this.value(), this.clock.now(), this.i18n.locale()));
  protected readonly exact = computed(() => exactTime(this.value(), this.i18n.locale()));
}
