/**
 * @file Decoding and resizing one image file with sharp (libvips, shipped inside its npm
 * packages): PNG, JPEG, WebP, GIF (first frame), TIFF and AVIF, of any size and mode. JPEGs are
 * shrunk while they are decoded, so a large photo never needs its full size in memory, and an
 * image above `maxPixels` is refused from its header alone. Where the addon's libjpeg path is
 * there, the folder loader and `predict` read and decode JPEGs with it instead (decode-files.ts),
 * which costs far less per file; sharp takes everything else.
 */
import sharp from 'sharp';

/** How every image becomes the network's input. */
export interface DecodeSettings {
  /** Side of the square input, in pixels. */
  size: number;
  channels: 1 | 3;
  /** crop: shorter side to `size`, then the centre square; stretch: the whole image squashed to the square. */
  resize: 'crop' | 'stretch';
}

/** How images are resized unless told otherwise; a checkpoint that records no mode was made so. */
export const defaultResize: DecodeSettings['resize'] = 'crop';

/** What the header says (the size as shown, after EXIF orientation), or why the file is not a decodable image. */
export type Probe = Header | { error: string };
export interface Header { width: number; height: number; grey: boolean; format: string; space: string }

/** Larger images are refused by name rather than decoded (a 20000x20000 scan). */
const maxPixels = 100_000_000;

// Errors on damaged data rather than decoding what is left of it (a truncated JPEG).
const inputOptions = { failOn: 'error', limitInputPixels: maxPixels, animated: false } as const;

/** What a header's stored size, channels and EXIF orientation make of a file, whichever decoder read them. */
export function headerProbe(h: { width: number; height: number; channels: number; orientation: number; format: string; space: string }): Probe {
  if (!h.width || !h.height) return { error: 'no image size in its header' };
  if (h.width * h.height > maxPixels) return { error: `${h.width}x${h.height} is above the ${maxPixels / 1e6} megapixel limit; shrink it or leave it out` };
  // Greyscale: one channel, or one with alpha; EXIF orientation may swap the sides.
  const swapped = h.orientation >= 5;
  return { width: swapped ? h.height : h.width, height: swapped ? h.width : h.height, grey: h.channels <= 2, format: h.format, space: h.space };
}

export async function probeImage(path: string): Promise<Probe> {
  try {
    const m = await sharp(path, inputOptions).metadata();
    return headerProbe({ width: m.width ?? 0, height: m.height ?? 0, channels: m.channels ?? 3, orientation: m.orientation ?? 1, format: m.format ?? '', space: m.space ?? '' });
  } catch (err) {
    return { error: firstLine(err) };
  }
}

/** libvips repeats its warnings over several lines; the first says what is wrong. */
export const firstLine = (err: unknown) => (err as Error).message.split('\n')[0]!;

/** The image as `size * size * channels` bytes, HWC; throws when the data cannot be decoded. */
export async function decodeImage(path: string, s: DecodeSettings): Promise<Uint8Array> {
  const { data, info } = await sharp(path, inputOptions)
    .rotate() // EXIF orientation, as a photo viewer shows it
    .removeAlpha()
    .resize(s.size, s.size, { fit: s.resize === 'crop' ? 'cover' : 'fill', position: 'centre' })
    .toColourspace(s.channels === 1 ? 'b-w' : 'srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== s.size || info.height !== s.size || info.channels !== s.channels) {
    throw new Error(`decoded to ${info.width}x${info.height}x${info.channels}, expected ${s.size}x${s.size}x${s.channels}`);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}
