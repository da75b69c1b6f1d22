/**
 * @file The worker thread behind jpeg-workers.ts: decodes JPEGs with Skia (@napi-rs/canvas),
 * draws each scaled into one `size` x `size` canvas as sharp would resize it, and answers with
 * its pixels (transferred, not copied), or with none when sharp should decide instead. Skia
 * fills in a truncated JPEG rather than failing, so a file that does not end as a JPEG ends, one
 * Skia cannot decode and one whose size is not its header's all go to sharp, which decodes them
 * or reports them as bad images in its own words.
 */
import { readFile } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { createCanvas, Image } from '@napi-rs/canvas';
import type { DecodeSettings } from './decode.js';

/** `width` x `height`: the image as its header shows it, after EXIF orientation. */
export interface JpegRequest { id: number; path: string; width: number; height: number }
/** No pixels: sharp should decode the file. */
export interface JpegReply { id: number; pixels?: Uint8Array }

const s = workerData as DecodeSettings;
const n = s.size;
const ctx = createCanvas(n, n).getContext('2d');
ctx.imageSmoothingEnabled = true;
ctx.imageSmoothingQuality = 'high';
// Each draw replaces the whole canvas, so nothing of the previous image can show at the edges.
ctx.globalCompositeOperation = 'copy';

/** sRGB value -> linear light, for the luminance. */
const linear = Float64Array.from({ length: 256 }, (_, v) => toLinear(v / 255));
/** The linear light halfway between each sRGB value and the next: a luminance encodes to the number of these at or below it, i.e. rounded. */
const halfway = Float64Array.from({ length: 255 }, (_, v) => toLinear((v + 0.5) / 255));

function toLinear(c: number): number {
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

function encode(y: number): number {
  let lo = 0;
  let hi = halfway.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (halfway[mid]! <= y) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One channel as libvips makes 'b-w' from sRGB: Rec. 709 luminance of the linear light, encoded back to sRGB. */
function luminance(rgba: Uint8ClampedArray): Uint8Array {
  const out = new Uint8Array(rgba.length / 4);
  for (let p = 0; p < out.length; p++) {
    out[p] = encode(0.2126 * linear[rgba[4 * p]!]! + 0.7152 * linear[rgba[4 * p + 1]!]! + 0.0722 * linear[rgba[4 * p + 2]!]!);
  }
  return out;
}

/** RGB without the alpha (a JPEG is opaque, so the colours are not premultiplied by anything but 255). */
function rgb(rgba: Uint8ClampedArray): Uint8Array {
  const out = new Uint8Array((rgba.length / 4) * 3);
  for (let p = 0, q = 0; q < out.length; p += 4, q += 3) {
    out[q] = rgba[p]!;
    out[q + 1] = rgba[p + 1]!;
    out[q + 2] = rgba[p + 2]!;
  }
  return out;
}

const endsAsJpeg = (b: Buffer) => b.length >= 2 && b[b.length - 2] === 0xff && b[b.length - 1] === 0xd9;

async function decode(req: JpegRequest): Promise<Uint8Array | undefined> {
  const img = new Image();
  try {
    const bytes = await readFile(req.path);
    if (!endsAsJpeg(bytes)) return undefined;
    img.src = bytes;
    await img.decode();
  } catch {
    return undefined;
  }
  // Skia applies the EXIF orientation as sharp does, so its sides are the header's as shown.
  const { width: w, height: h } = img;
  if (w !== req.width || h !== req.height) return undefined;
  if (s.resize === 'crop') {
    const side = Math.min(w, h);
    ctx.drawImage(img, (w - side) / 2, (h - side) / 2, side, side, 0, 0, n, n);
  } else {
    ctx.drawImage(img, 0, 0, n, n);
  }
  const rgba = ctx.getImageData(0, 0, n, n).data;
  return s.channels === 1 ? luminance(rgba) : rgb(rgba);
}

const port = parentPort!;
// Several requests at once: one file is read and decoded while another is drawn. An unexpected
// failure is left unhandled, so that it stops the thread and the pool names the file.
port.on('message', (req: JpegRequest) => {
  void decode(req).then((pixels) => {
    const reply: JpegReply = { id: req.id, ...(pixels ? { pixels } : {}) };
    port.postMessage(reply, pixels ? [pixels.buffer as ArrayBuffer] : []);
  });
});
