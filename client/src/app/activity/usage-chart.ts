import { ChangeDetectionStrategy, Component, computed, effect, ElementRef, inject, input, OnDestroy, viewChild } from '@angular/core';
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { I18n } from '../i18n/i18n';
import type { KeyUsage } from './activity.api';

// Only what a bar chart needs: Chart.js is tree-shaken to these parts, in the lazy route's chunk.
Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);

/** Requests and refusals per hour or day, as stacked bars; the same figures in a table for screen readers. */
@Component({
  selector: 'app-usage-chart',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div class="chart"><canvas #canvas role="img" [attr.aria-label]="summary()"></canvas></div>
    <p class="summary" data-testid="usage-summary">{{ summary() }}</p>
  `,
  styles: `
    .chart {
      position: relative;
      height: 200px;
    }
    .summary {
      font: var(--mat-sys-body-small);
      color: var(--mat-sys-on-surface-variant);
    }
  `,
})
export class UsageChart implements OnDestroy {
  private readonly i18n = inject(I18n);
  readonly usage = input.required<KeyUsage>();
  private readonly canvas = viewChild.required<ElementRef<HTMLCanvasElement>>('canvas');
  private chart?: Chart;

  protected readonly summary = computed(() => {
    const { buckets, granularity } = this.usage();
    const requests = buckets.reduce((n, b) => n + b.requests, 0);
    const failures = buckets.reduce((n, b) => n + b.failures, 0);
    return this.i18n.t(granularity === 'hour' ? 'usageChart.summary7' : 'usageChart.summary30', {
      requests: this.i18n.number(requests),
      failures: this.i18n.number(failures),
    });
  });

  constructor() {
    effect(() => this.draw(this.usage(), this.i18n.locale()));
  }

  ngOnDestroy(): void {
    this.chart?.destroy();
  }

  private draw(usage: KeyUsage, locale: string): void {
    const host = this.canvas().nativeElement;
    // The theme's tokens may be light-dark() pairs, which a canvas cannot parse: let the browser
    // resolve each to the rgb() it paints now.
    const color = (token: string, fallback: string) => {
      const probe = document.createElement('span');
      probe.style.color = `var(${token}, ${fallback})`;
      host.parentElement!.appendChild(probe);
      const resolved = getComputedStyle(probe).color;
      probe.remove();
      return resolved || fallback;
    };
    const format: Intl.DateTimeFormatOptions =
      usage.granularity === 'hour' ? { weekday: 'short', hour: 'numeric' } : { month: 'short', day: 'numeric' };
    const labels = usage.buckets.map((b) => new Date(b.start).toLocaleString(locale, format));
    const datasets = [
      {
        label: this.i18n.t('usageChart.requests'),
        data: usage.buckets.map((b) => b.requests),
        backgroundColor: color('--mat-sys-primary', '#415f91'),
        stack: 's',
      },
      {
        label: this.i18n.t('usageChart.refused'),
        data: usage.buckets.map((b) => b.failures),
        backgroundColor: color('--mat-sys-error', '#ba1a1a'),
        stack: 's',
      },
    ];
    if (this.chart) {
      this.chart.data = { labels, datasets };
      this.chart.update();
      return;
    }
    this.chart = new Chart(host, {
      type: 'bar',
      data: { labels, datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { x: { stacked: true, ticks: { maxTicksLimit: 8 } }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: 'bottom' } },
      },
    });
  }
}
