/**
 * @file Image folders for tests, written from real datasets: each image of an ImageSet as a PNG
 * in DIR/<class>/, named by its index so that a folder run can be matched to the built-in one.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { ImageSet } from '../data/datasets.js';

/** Class names as folder names: Fashion-MNIST's 'T-shirt/top' cannot be one. */
const folderName = (cls: string) => cls.replace(/[/\\]/g, '-');

export async function writePngFolder(dir: string, set: ImageSet, classes: readonly string[], count = set.count): Promise<void> {
  for (const c of classes) await mkdir(join(dir, folderName(c)), { recursive: true });
  const bytes = set.height * set.width * set.channels;
  const write = async (i: number) => {
    const raw = Buffer.from(set.images.buffer, set.images.byteOffset + i * bytes, bytes);
    // Without b-w, sharp writes a one-channel image as an RGB PNG.
    await sharp(raw, { raw: { width: set.width, height: set.height, channels: set.channels as 1 | 3 } })
      .toColourspace(set.channels === 1 ? 'b-w' : 'srgb')
      .png({ compressionLevel: 1 })
      .toFile(join(dir, folderName(classes[set.labels[i]!]!), `${String(i).padStart(5, '0')}.png`));
  };
  // A few at a time: libvips encodes on its own threads.
  for (let i = 0; i < count; i += 16) await Promise.all(Array.from({ length: Math.min(16, count - i) }, (_, k) => write(i + k)));
}
