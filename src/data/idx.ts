/**
 * @file The IDX format of MNIST and Fashion-MNIST (after gunzip): a big-endian header
 * `00 00 08 <ndim>`, then ndim int32 sizes, then the uint8 data row-major. Images have 3
 * dimensions (count, rows, cols), labels 1 (count).
 */
import { UserError } from '../core/errors.js';

export interface IdxImages { count: number; rows: number; cols: number; pixels: Uint8Array }

const ubyteType = 0x08;

/** Reads the header of an IDX file of `ndim` dimensions; errors name the file and the offset. */
function readHeader(file: string, data: Uint8Array, ndim: number): number[] {
  const headerBytes = 4 + 4 * ndim;
  if (data.length < headerBytes) {
    throw new UserError(`${file}: IDX file too short: ${data.length} bytes, the header alone needs ${headerBytes}; the file is truncated, download it again`);
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const magic = view.getUint32(0);
  const expected = (ubyteType << 8) | ndim;
  if (magic !== expected) {
    throw new UserError(`${file}: wrong IDX magic at byte 0: 0x${magic.toString(16).padStart(8, '0')}, expected 0x${expected.toString(16).padStart(8, '0')} (uint8, ${ndim} dimension${ndim > 1 ? 's' : ''}); is this the right file?`);
  }
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i));
  const expectedBytes = headerBytes + dims.reduce((a, b) => a * b, 1);
  if (data.length !== expectedBytes) {
    throw new UserError(`${file}: wrong IDX size: the header (bytes 4-${headerBytes - 1}) says ${dims.join('x')}, which needs ${expectedBytes} bytes, but the file has ${data.length}${data.length < expectedBytes ? ` (it ends at byte ${data.length}: truncated)` : ''}; download it again`);
  }
  return dims;
}

export function parseIdxImages(file: string, data: Uint8Array): IdxImages {
  const [count, rows, cols] = readHeader(file, data, 3) as [number, number, number];
  return { count, rows, cols, pixels: data.subarray(16) };
}

/** Labels, each checked to be below `classes`. */
export function parseIdxLabels(file: string, data: Uint8Array, classes: number): Uint8Array {
  readHeader(file, data, 1);
  const labels = data.subarray(8);
  const bad = labels.findIndex((l) => l >= classes);
  if (bad >= 0) {
    throw new UserError(`${file}: label ${labels[bad]} out of range 0..${classes - 1} at byte ${8 + bad} (record ${bad}); the file is corrupt, download it again`);
  }
  return labels;
}

/** An IDX file's bytes, for tests and for writing small datasets. */
export function encodeIdx(dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE((ubyteType << 8) | dims.length, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, data]);
}
