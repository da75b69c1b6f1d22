/**
 * @file Test helpers: decode a PNG and tell whether it holds a picture (not one flat colour).
 */
import { PNG } from 'pngjs';

export interface DecodedPng {
  width: number;
  height: number;
  /** RGBA, 8 bits per channel. */
  data: Buffer;
}

export function decodePng(bytes: Uint8Array): DecodedPng {
  const png = PNG.sync.read(Buffer.from(bytes));
  return { width: png.width, height: png.height, data: png.data };
}

/** Variance of the grey level over all pixels: 0 for a blank image. */
export function greyVariance(png: DecodedPng): number {
  let sum = 0;
  let sumOfSquares = 0;
  const pixels = png.width * png.height;
  for (let p = 0; p < pixels; p++) {
    const grey = (png.data[4 * p]! + png.data[4 * p + 1]! + png.data[4 * p + 2]!) / 3;
    sum += grey;
    sumOfSquares += grey * grey;
  }
  const mean = sum / pixels;
  return sumOfSquares / pixels - mean * mean;
}
