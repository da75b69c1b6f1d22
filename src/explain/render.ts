/**
 * @file Turning Grad-CAM maps into pictures: matplotlib's 'jet' colour map, a heatmap blended
 * over the input image, and the figure that lays test images beside their heatmaps.
 */
import { imageGridPng, type GridCell, type PixelImage } from '../report/image-grid.js';

/** A map of values in 0..1 (values outside are clamped), row by row. */
export interface Heatmap {
  height: number;
  width: number;
  data: Float32Array;
}

export type Rgb = readonly [number, number, number];

// matplotlib's `_jet_data` (matplotlib/_cm.py): per channel, (position, value) control points
// joined by straight lines.
const JET: Record<'red' | 'green' | 'blue', ReadonlyArray<readonly [number, number]>> = {
  red: [[0, 0], [0.35, 0], [0.66, 1], [0.89, 1], [1, 0.5]],
  green: [[0, 0], [0.125, 0], [0.375, 1], [0.64, 1], [0.91, 0], [1, 0]],
  blue: [[0, 0.5], [0.11, 1], [0.34, 1], [0.65, 0], [1, 0]],
};

function piecewiseLinear(points: ReadonlyArray<readonly [number, number]>, t: number): number {
  for (let i = 1; i < points.length; i++) {
    const [x1, y1] = points[i]!;
    if (t <= x1) {
      const [x0, y0] = points[i - 1]!;
      return y0 + ((y1 - y0) * (t - x0)) / (x1 - x0);
    }
  }
  return points[points.length - 1]![1];
}

// matplotlib samples a colour map into 256 entries and looks values up in that table, so we do
// the same: colours then match `cm.jet(t)` exactly, not just approximately.
const JET_TABLE: readonly Rgb[] = Array.from({ length: 256 }, (_, i) => {
  const t = i / 255;
  return [piecewiseLinear(JET.red, t), piecewiseLinear(JET.green, t), piecewiseLinear(JET.blue, t)] as const;
});

/** matplotlib's `cm.jet(t)[:3]`: 0 is dark blue (0, 0, 0.5), 1 dark red (0.5, 0, 0). NaN counts as 0. */
export function jet(t: number): Rgb {
  const clamped = Number.isNaN(t) ? 0 : Math.min(Math.max(t, 0), 1);
  return JET_TABLE[Math.min(255, Math.floor(clamped * 256))]!;
}

/**
 * The map resampled to height x width by bilinear interpolation with pixel centres aligned
 * (PyTorch's `interpolate(..., align_corners=False)`, OpenCV's `resize`): a 4x4 Grad-CAM map
 * of a 32x32 image covers the image, each cell centred on its patch.
 */
export function resizeHeatmap(map: Heatmap, height: number, width: number): Heatmap {
  if (map.height === height && map.width === width) return map;
  const data = new Float32Array(height * width);
  const source = (i: number, n: number, size: number) => Math.min(Math.max(((i + 0.5) * n) / size - 0.5, 0), n - 1);
  for (let y = 0; y < height; y++) {
    const sy = source(y, map.height, height);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, map.height - 1);
    const fy = sy - y0;
    for (let x = 0; x < width; x++) {
      const sx = source(x, map.width, width);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, map.width - 1);
      const fx = sx - x0;
      const at = (yy: number, xx: number) => map.data[yy * map.width + xx]!;
      const top = at(y0, x0) * (1 - fx) + at(y0, x1) * fx;
      const bottom = at(y1, x0) * (1 - fx) + at(y1, x1) * fx;
      data[y * width + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return { height, width, data };
}

/**
 * The heatmap in jet colours blended over the image: alpha 0 gives the image (as RGB), alpha 1
 * the heatmap alone. A map of another size is resized to the image first.
 */
export function overlayHeatmap(image: PixelImage, cam: Heatmap, alpha = 0.5): PixelImage {
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`overlay alpha must be in 0..1, not ${alpha}`);
  const { height, width, channels } = image;
  const map = resizeHeatmap(cam, height, width);
  const out = new Uint8Array(height * width * 3);
  for (let p = 0; p < height * width; p++) {
    const colour = jet(map.data[p]!);
    for (let c = 0; c < 3; c++) {
      const pixel = image.data[p * channels + (channels === 3 ? c : 0)]!;
      out[3 * p + c] = Math.round((1 - alpha) * pixel + alpha * 255 * colour[c]!);
    }
  }
  return { height, width, channels: 3, data: out };
}

/** One test image and what each compared model made of it. */
export interface GradcamRow {
  image: PixelImage;
  trueLabel: string;
  /** One entry per model, in the order of `GradcamFigureOptions.modelNames`. */
  explanations: ReadonlyArray<{ cam: Heatmap; predictedLabel: string }>;
}

export interface GradcamFigureOptions {
  /** Column titles for the models, e.g. ['with augmentation', 'without augmentation']. */
  modelNames?: readonly string[];
  title?: string;
  alpha?: number;
  scale?: number;
}

/**
 * Per row: the image (captioned with its true label), then each model's heatmap overlay
 * captioned with true and predicted labels. Returns PNG bytes.
 */
export function gradcamFigure(rows: readonly GradcamRow[], options: GradcamFigureOptions = {}): Buffer {
  const models = Math.max(0, ...rows.map((r) => r.explanations.length));
  const modelNames = options.modelNames ?? (models > 1 ? Array.from({ length: models }, (_, i) => `model ${i + 1}`) : ['Grad-CAM']);
  const grid = rows.map((row): GridCell[] => [
    { image: row.image, caption: row.trueLabel },
    ...row.explanations.map(({ cam, predictedLabel }) => ({
      image: overlayHeatmap(row.image, cam, options.alpha),
      caption: `true ${row.trueLabel}, predicted ${predictedLabel}${predictedLabel === row.trueLabel ? '' : ' ✗'}`,
    })),
  ]);
  return imageGridPng({
    rows: grid,
    columnTitles: ['image', ...modelNames],
    ...(options.title === undefined ? {} : { title: options.title }),
    ...(options.scale === undefined ? {} : { scale: options.scale }),
  });
}
