/**
 * @file The page's decode worker: image files to side x side RGB pixels, off the page's thread.
 * Each chunk of files is decoded and its pixels sent back (transferred); the files themselves are
 * handles the browser reads on demand, so a folder of 100,000 images is never held whole.
 *
 * Resized as `kilosecond train DIR` resizes ('crop'): the shorter side to the target, the centre
 * square kept; colours as stored (no colour-space conversion), as the command line decodes them.
 */
import { type DecodeReply, type DecodeRequest, pageImageSide } from './messages.js';

interface WorkerScope {
  onmessage: ((event: MessageEvent<DecodeRequest>) => void) | null;
  postMessage(message: DecodeReply, transfer: Transferable[]): void;
}
const scope = self as unknown as WorkerScope;
const side = pageImageSide;
const canvas = new OffscreenCanvas(side, side);
const context = canvas.getContext('2d', { willReadFrequently: true })!;
const asStored = { colorSpaceConversion: 'none', premultiplyAlpha: 'none' } as const;

async function decodeInto(file: File, pixels: Uint8Array, offset: number): Promise<void> {
  const whole = await createImageBitmap(file, asStored);
  const s = Math.min(whole.width, whole.height);
  const square = await createImageBitmap(whole, Math.floor((whole.width - s) / 2), Math.floor((whole.height - s) / 2), s, s, {
    ...asStored, resizeWidth: side, resizeHeight: side, resizeQuality: 'high',
  });
  whole.close();
  context.clearRect(0, 0, side, side);
  context.drawImage(square, 0, 0);
  square.close();
  const rgba = context.getImageData(0, 0, side, side).data;
  for (let p = 0; p < side * side; p++) {
    pixels[offset + 3 * p] = rgba[4 * p]!;
    pixels[offset + 3 * p + 1] = rgba[4 * p + 1]!;
    pixels[offset + 3 * p + 2] = rgba[4 * p + 2]!;
  }
}

scope.onmessage = async ({ data: { id, files } }) => {
  const bytes = side * side * 3;
  const pixels = new Uint8Array(files.length * bytes);
  const errors: Array<string | null> = [];
  for (const [i, file] of files.entries()) {
    try {
      await decodeInto(file, pixels, i * bytes);
      errors.push(null);
    } catch (err) {
      errors.push(`cannot be decoded as an image (${(err as Error).message || (err as Error).name})`);
    }
  }
  scope.postMessage({ id, pixels, errors }, [pixels.buffer]);
};
