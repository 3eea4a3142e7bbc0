// The training curve: loss and events/s of every progress message the engine sends,
// against seconds since the page opened. uPlot is bundled by Vite (no CDN).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface TrainingChart {
  add(point: { loss: number; eventsPerSecond: number }): void;
  /** A vertical gap between two training runs. */
  breakLine(): void;
  clear(): void;
  readonly points: number;
}

export function createTrainingChart(host: HTMLElement): TrainingChart {
  const t0 = performance.now();
  const xs: number[] = [];
  const loss: (number | null)[] = [];
  const eps: (number | null)[] = [];
  const width = () => Math.max(240, Math.floor(host.clientWidth));
  const plot = new uPlot(
    {
      width: width(),
      height: 220,
      title: undefined,
      scales: { x: { time: false }, eps: { auto: true } },
      axes: [
        { label: 'seconds since the page opened', stroke: 'currentColor' },
        { label: 'loss', stroke: 'currentColor', scale: 'y' },
        {
          label: 'events/s',
          side: 1,
          scale: 'eps',
          stroke: 'currentColor',
          grid: { show: false },
        },
      ],
      series: [
        { label: 's' },
        {
          label: 'loss',
          stroke: '#d9480f',
          width: 2,
          scale: 'y',
          value: (_u, v) => (v == null ? '–' : v.toFixed(3)),
        },
        {
          label: 'events/s',
          stroke: '#1971c2',
          width: 2,
          scale: 'eps',
          value: (_u, v) => (v == null ? '–' : Math.round(v).toLocaleString('en-US')),
        },
      ],
    },
    [xs, loss, eps],
    host,
  );
  new ResizeObserver(() => plot.setSize({ width: width(), height: 220 })).observe(host);
  const redraw = () => plot.setData([xs, loss, eps]);
  return {
    add(p) {
      xs.push((performance.now() - t0) / 1000);
      loss.push(Number.isFinite(p.loss) ? p.loss : null);
      eps.push(Number.isFinite(p.eventsPerSecond) ? p.eventsPerSecond : null);
      redraw();
    },
    breakLine() {
      if (!xs.length) return;
      xs.push(xs[xs.length - 1] + 1e-3);
      loss.push(null);
      eps.push(null);
    },
    clear() {
      xs.length = 0;
      loss.length = 0;
      eps.length = 0;
      redraw();
    },
    get points() {
      return loss.filter((v) => v !== null).length;
    },
  };
}
