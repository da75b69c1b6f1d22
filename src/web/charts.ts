/**
 * @file The live curves: loss and accuracy against epochs, training (running, read a few times
 * an epoch) and test (after each epoch), drawn as SVG. Redrawn at most once a frame.
 */
const svgNs = 'http://www.w3.org/2000/svg';

interface Series { name: string; colour: string; points: Array<[number, number]> }

export class Curves {
  private readonly loss: Series[] = [
    { name: 'training loss', colour: '#1f77b4', points: [] },
    { name: 'test loss', colour: '#d62728', points: [] },
  ];
  private readonly accuracy: Series[] = [
    { name: 'training accuracy', colour: '#1f77b4', points: [] },
    { name: 'test accuracy', colour: '#d62728', points: [] },
  ];
  private epochs = 1;
  private pending = false;

  constructor(private readonly svg: SVGSVGElement) {}

  reset(epochs: number): void {
    for (const s of [...this.loss, ...this.accuracy]) s.points.length = 0;
    this.epochs = epochs;
    this.redraw();
  }

  setEpochs(epochs: number): void {
    this.epochs = epochs;
    this.redraw();
  }

  /** Training loss and accuracy so far, at `x` epochs. */
  running(x: number, loss: number, accuracy: number): void {
    this.loss[0]!.points.push([x, loss]);
    this.accuracy[0]!.points.push([x, accuracy]);
    this.redraw();
  }

  /** After epoch `epoch` (1-based). */
  tested(epoch: number, loss: number, accuracy: number): void {
    this.loss[1]!.points.push([epoch, loss]);
    this.accuracy[1]!.points.push([epoch, accuracy]);
    this.redraw();
  }

  private redraw(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  private draw(): void {
    const count = [...this.loss, ...this.accuracy].reduce((n, s) => n + s.points.length, 0);
    this.svg.dataset.points = String(count);
    this.svg.replaceChildren();
    this.svg.setAttribute('viewBox', '0 0 640 240');
    const maxLoss = Math.max(1e-6, ...this.loss.flatMap((s) => s.points.map(([, y]) => y)));
    // Each legend where its curves are not: loss falls from the top left, accuracy rises to the top right.
    this.panel(this.loss, 0, maxLoss, 'loss', 'top');
    this.panel(this.accuracy, 320, 1, 'accuracy', 'bottom');
  }

  private panel(series: Series[], left: number, top: number, title: string, legend: 'top' | 'bottom'): void {
    const [x0, y0, w, h] = [left + 40, 20, 260, 180];
    const g = element('g', {});
    g.append(element('rect', { x: x0, y: y0, width: w, height: h, fill: 'none', stroke: '#999' }));
    g.append(text(x0 + w / 2, 14, title, 'middle'));
    g.append(text(x0 - 4, y0 + 4, top < 1.5 && title === 'accuracy' ? '100%' : top.toFixed(2), 'end'));
    g.append(text(x0 - 4, y0 + h, '0', 'end'));
    g.append(text(x0 + w, y0 + h + 16, `epoch ${this.epochs}`, 'end'));
    series.forEach((s, k) => {
      if (s.points.length > 0) {
        const d = s.points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${(x0 + (w * x) / this.epochs).toFixed(1)},${(y0 + h - (h * Math.min(y, top)) / top).toFixed(1)}`).join('');
        g.append(element('path', { d, fill: 'none', stroke: s.colour, 'stroke-width': 2, 'data-series': s.name }));
      }
      const y = legend === 'top' ? y0 + 8 + 16 * k : y0 + h - 8 - 16 * (series.length - k);
      g.append(element('rect', { x: x0 + w - 18, y, width: 10, height: 3, fill: s.colour }));
      g.append(text(x0 + w - 22, y + 5, s.name, 'end'));
    });
    this.svg.append(g);
  }
}

function element(name: string, attributes: Record<string, string | number>): SVGElement {
  const e = document.createElementNS(svgNs, name);
  for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, String(v));
  return e;
}

function text(x: number, y: number, content: string, anchor: 'start' | 'middle' | 'end'): SVGElement {
  const t = element('text', { x, y, 'text-anchor': anchor, 'font-size': 11 });
  t.textContent = content;
  return t;
}
