/**
 * @file What the page shows besides the curves: the class counts, augmented training samples as
 * the recipe will see them, the confusion matrix, and Grad-CAM over test images.
 */
import { augmentFor, augmentImage, meanPixel, recipeSidesFor } from '../data/augment.js';
import { fastRecipe } from '../train/settings.js';
import { pageImageSide } from './messages.js';

const side = pageImageSide;

function cell(tag: 'td' | 'th', content: string | number): HTMLTableCellElement {
  const c = document.createElement(tag);
  c.textContent = String(content);
  return c;
}

function row(cells: HTMLTableCellElement[]): HTMLTableRowElement {
  const r = document.createElement('tr');
  r.append(...cells);
  return r;
}

export function renderClassCounts(table: HTMLTableElement, classes: string[], train: number[], test: number[]): void {
  table.replaceChildren(
    row([cell('th', 'class'), cell('th', 'training images'), cell('th', 'test images')]),
    ...classes.map((c, i) => row([cell('td', c), cell('td', train[i]!), cell('td', test[i]!)])),
  );
}

/** side x side RGB pixels at `offset` onto a canvas, `scale` times larger, with an optional heat map (0..1) over them. */
export function imageCanvas(pixels: Uint8Array, offset: number, scale: number, heat?: Float32Array): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = side;
  canvas.height = side;
  const context = canvas.getContext('2d')!;
  const image = context.createImageData(side, side);
  for (let p = 0; p < side * side; p++) {
    let [r, g, b] = [pixels[offset + 3 * p]!, pixels[offset + 3 * p + 1]!, pixels[offset + 3 * p + 2]!];
    if (heat) {
      // Half the image, half a blue-to-red ramp of the map.
      const v = heat[p]!;
      [r, g, b] = [0.5 * r + 127 * v, 0.5 * g + 127 * (1 - Math.abs(2 * v - 1)), 0.5 * b + 127 * (1 - v)];
    }
    image.data.set([r, g, b, 255], 4 * p);
  }
  context.putImageData(image, 0, 0);
  canvas.style.width = canvas.style.height = `${side * scale}px`;
  canvas.style.imageRendering = 'pixelated';
  return canvas;
}

/** Training images `indices` as the fast recipe augments them in its first two epochs (shift and alternating flip). */
export function renderSamples(container: HTMLElement, images: Uint8Array, indices: number[], mean: number[]): void {
  const config = augmentFor(fastRecipe.augmentation, { padMode: 'reflect', augmentSides: recipeSidesFor(side), flip: true });
  const out = new Uint8Array(side * side * 3);
  const fill = meanPixel(mean);
  const canvases: HTMLCanvasElement[] = [];
  for (const index of indices) {
    for (const epoch of [0, 1]) {
      augmentImage(config, 0, epoch, index, images, side, side, 3, out, 0, fill);
      canvases.push(imageCanvas(out, 0, 2));
    }
  }
  container.replaceChildren(...canvases);
}

export function renderConfusion(table: HTMLTableElement, classes: string[], counts: number[][]): void {
  table.replaceChildren(
    row([cell('th', 'true \\ predicted'), ...classes.map((c) => cell('th', c))]),
    ...counts.map((r, i) => row([cell('th', classes[i]!), ...r.map((n, j) => {
      const c = cell('td', n);
      if (i === j) c.className = 'diagonal';
      return c;
    })])),
  );
}

/** Each explained test image beside its Grad-CAM, captioned with the true and predicted class. */
export function renderGradCam(
  container: HTMLElement, test: { images: Uint8Array; labels: Uint8Array }, classes: string[], explained: Array<{ index: number; predicted: number; map: Float32Array }>,
): void {
  container.replaceChildren(...explained.map((e) => {
    const figure = document.createElement('figure');
    const offset = e.index * side * side * 3;
    const caption = document.createElement('figcaption');
    const truth = classes[test.labels[e.index]!]!;
    caption.textContent = `${truth} → ${classes[e.predicted]}`;
    if (classes[e.predicted] !== truth) caption.className = 'wrong';
    figure.append(imageCanvas(test.images, offset, 3), imageCanvas(test.images, offset, 3, e.map), caption);
    return figure;
  }));
}
