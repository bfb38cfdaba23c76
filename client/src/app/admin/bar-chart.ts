import { ChangeDetectionStrategy, Component, effect, ElementRef, input, OnDestroy, viewChild } from '@angular/core';
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);

export interface BarSeries {
  label: string;
  values: number[];
  /** A theme token (e.g. --mat-sys-primary) and a fallback colour. */
  color: [token: string, fallback: string];
}

/** A bar chart (Chart.js, in the admin chunk) whose canvas is described by `summary` for screen readers. */
@Component({
  selector: 'app-bar-chart',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<div class="chart"><canvas #canvas role="img" [attr.aria-label]="summary()"></canvas></div>`,
  styles: `
    .chart {
      position: relative;
      height: 220px;
    }
  `,
})
export class BarChart implements OnDestroy {
  readonly labels = input.required<string[]>();
  readonly series = input.required<BarSeries[]>();
  readonly summary = input.required<string>();
  private readonly canvas = viewChild.required<ElementRef<HTMLCanvasElement>>('canvas');
  private chart?: Chart;

  constructor() {
    effect(() => this.draw(this.labels(), this.series()));
  }

  ngOnDestroy(): void {
    this.chart?.destroy();
  }

  private draw(labels: string[], series: BarSeries[]): void {
    const host = this.canvas().nativeElement;
    // Theme tokens may be light-dark() pairs a canvas cannot parse: let the browser resolve them.
    const color = ([token, fallback]: [string, string]) => {
      const probe = document.createElement('span');
      probe.style.color = `var(${token}, ${fallback})`;
      host.parentElement!.appendChild(probe);
      const resolved = getComputedStyle(probe).color;
      probe.remove();
      return resolved || fallback;
    };
    const text = color(['--mat-sys-on-surface-variant', '#44474e']);
    const datasets = series.map((s) => ({ label: s.label, data: s.values, backgroundColor: color(s.color), stack: 's' }));
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
        scales: {
          x: { stacked: true, ticks: { maxTicksLimit: 8, color: text } },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0, color: text } },
        },
        plugins: { legend: { position: 'bottom', labels: { color: text } } },
      },
    });
  }
}
