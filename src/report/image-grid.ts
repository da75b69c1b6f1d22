/**
 * @file A grid of small images with a caption under each and optional row and column titles,
 * as PNG: the augmentation samples of `kilosecond show` and the Grad-CAM figures.
 *
 * Dataset images are tiny (28x28, 32x32), so each is enlarged by an integer factor with
 * nearest-neighbour sampling: every source pixel becomes a crisp square, nothing is smoothed
 * away or invented.
 */
import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { textFontFamily } from './fonts.js';
import { writeFileAtomic } from '../io/atomic.js';

/** Interleaved 8-bit pixels, row by row (HWC), grey or RGB. */
export interface PixelImage {
  height: number;
  width: number;
  channels: 1 | 3;
  data: Uint8Array;
}

export interface GridCell {
  image: PixelImage;
  caption?: string;
}

export interface ImageGrid {
  /** Rows of cells, left to right; `null` leaves a cell empty. */
  rows: readonly (readonly (GridCell | null)[])[];
  /** Integer enlargement; by default the largest image side becomes about 112 pixels. */
  scale?: number;
  title?: string;
  columnTitles?: readonly string[];
  rowTitles?: readonly string[];
}

const FONT_SIZE = 13;
const TITLE_FONT_SIZE = 16;
const GAP = 10;
const LINE_HEIGHT = Math.round(FONT_SIZE * 1.5);
const TITLE_HEIGHT = Math.round(TITLE_FONT_SIZE * 1.8);
const DEFAULT_SIDE = 112;

/** The image enlarged `scale` times, as RGBA for the canvas. */
export function upscaleToRgba(image: PixelImage, scale: number): Uint8ClampedArray {
  const { height, width, channels, data } = image;
  if (data.length !== height * width * channels) {
    throw new Error(`image data holds ${data.length} bytes, not ${height}x${width}x${channels}`);
  }
  const outWidth = width * scale;
  const rgba = new Uint8ClampedArray(outWidth * height * scale * 4);
  for (let y = 0; y < height * scale; y++) {
    const sourceRow = Math.floor(y / scale) * width;
    for (let x = 0; x < outWidth; x++) {
      const s = (sourceRow + Math.floor(x / scale)) * channels;
      const d = (y * outWidth + x) * 4;
      rgba[d] = data[s]!;
      rgba[d + 1] = data[s + (channels === 3 ? 1 : 0)]!;
      rgba[d + 2] = data[s + (channels === 3 ? 2 : 0)]!;
      rgba[d + 3] = 255;
    }
  }
  return rgba;
}

function defaultScale(cells: GridCell[]): number {
  const largest = Math.max(...cells.map((c) => Math.max(c.image.height, c.image.width)));
  return Math.max(1, Math.floor(DEFAULT_SIDE / largest));
}

function textWidth(context: SKRSContext2D, font: string, texts: readonly (string | undefined)[]): number {
  context.font = font;
  return Math.max(0, ...texts.map((t) => (t ? Math.ceil(context.measureText(t).width) : 0)));
}

/** The grid as PNG bytes, on white. */
export function imageGridPng(grid: ImageGrid): Buffer {
  const cells = grid.rows.flat().filter((c): c is GridCell => c !== null);
  if (cells.length === 0) throw new Error('an image grid needs at least one image');
  const family = textFontFamily();
  const font = `${FONT_SIZE}px "${family}"`;
  const boldFont = `bold ${FONT_SIZE}px "${family}"`;
  const scale = grid.scale ?? defaultScale(cells);
  if (!Number.isInteger(scale) || scale < 1) throw new Error(`image grid scale must be a positive integer, not ${scale}`);

  // Text is measured before the canvas exists, on a scratch one: the layout depends on it.
  const measure = createCanvas(1, 1).getContext('2d');
  const imageWidth = Math.max(...cells.map((c) => c.image.width)) * scale;
  const imageHeight = Math.max(...cells.map((c) => c.image.height)) * scale;
  const cellWidth = Math.max(imageWidth, textWidth(measure, font, cells.map((c) => c.caption)), textWidth(measure, boldFont, grid.columnTitles ?? []));
  const captionHeight = cells.some((c) => c.caption) ? LINE_HEIGHT : 0;
  const cellHeight = imageHeight + captionHeight;
  const rowTitleWidth = grid.rowTitles?.length ? textWidth(measure, boldFont, grid.rowTitles) + GAP : 0;
  const top = (grid.title ? TITLE_HEIGHT : 0) + (grid.columnTitles?.length ? LINE_HEIGHT : 0) + GAP;
  const columns = Math.max(...grid.rows.map((r) => r.length), grid.columnTitles?.length ?? 0);
  const left = GAP + rowTitleWidth;
  const width = left + columns * (cellWidth + GAP);
  const height = top + grid.rows.length * (cellHeight + GAP);

  const canvas = createCanvas(width, height);
  const context = canvas.getContext('2d');
  context.fillStyle = 'white';
  context.fillRect(0, 0, width, height);
  context.fillStyle = '#222';
  context.textBaseline = 'middle';
  if (grid.title) {
    context.font = `bold ${TITLE_FONT_SIZE}px "${family}"`;
    context.textAlign = 'center';
    context.fillText(grid.title, width / 2, TITLE_HEIGHT / 2 + GAP / 2);
  }
  context.font = boldFont;
  context.textAlign = 'center';
  grid.columnTitles?.forEach((title, column) => {
    context.fillText(title, left + column * (cellWidth + GAP) + cellWidth / 2, top - GAP - LINE_HEIGHT / 2);
  });
  context.textAlign = 'right';
  grid.rowTitles?.forEach((title, row) => {
    context.fillText(title, left - GAP, top + row * (cellHeight + GAP) + imageHeight / 2);
  });

  context.font = font;
  context.textAlign = 'center';
  grid.rows.forEach((row, r) => {
    row.forEach((cell, c) => {
      if (cell === null) return;
      const x = left + c * (cellWidth + GAP);
      const y = top + r * (cellHeight + GAP);
      const { image } = cell;
      const pixels = context.createImageData(image.width * scale, image.height * scale);
      pixels.data.set(upscaleToRgba(image, scale));
      // Centred in its cell, so a caption wider than the image does not push it aside.
      context.putImageData(pixels, Math.round(x + (cellWidth - image.width * scale) / 2), y + imageHeight - image.height * scale);
      if (cell.caption) context.fillText(cell.caption, x + cellWidth / 2, y + imageHeight + LINE_HEIGHT / 2);
    });
  });
  return canvas.toBuffer('image/png');
}

/** Write the grid as a PNG file, atomically, creating the folder if needed. */
export async function writeImageGrid(path: string, grid: ImageGrid): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, imageGridPng(grid));
}
