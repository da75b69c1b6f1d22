/**
 * @file safetensors bytes: 8-byte little-endian header length, a JSON header naming each tensor's
 * dtype, shape and byte range, then the raw little-endian data. The format PyTorch checkpoints
 * and our fixtures use, so reading is strict: every range is checked against the file before use.
 * Bytes only, no files (io/safetensors-file.ts reads and writes them), so a browser page makes
 * the same checkpoints as `kilosecond train`.
 */
import { UserError } from '../core/errors.js';

export type SafeDType = 'F32' | 'I64';

export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  /** F32 tensors as Float32Array, I64 as BigInt64Array. */
  data: Float32Array | BigInt64Array;
}

export interface SafeFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

const BYTES: Record<SafeDType, number> = { F32: 4, I64: 8 };

/** Parses a whole file's bytes; `path` names it in errors. */
export function parseSafetensors(bytes: Uint8Array, path: string): SafeFile {
  if (bytes.length < 8) throw new UserError(`${path}: ${bytes.length} bytes is too short for a safetensors file (8-byte header length missing)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const dataStart = 8 + headerLength;
  if (dataStart > bytes.length) {
    throw new UserError(`${path}: header claims ${headerLength} bytes but the file has ${bytes.length}; the file is truncated or not safetensors`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, dataStart))) as Record<string, unknown>;
  } catch {
    throw new UserError(`${path}: the JSON header at byte 8 does not parse; the file is corrupt or not safetensors`);
  }
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (dtype !== 'F32' && dtype !== 'I64') throw new UserError(`${path}: tensor '${name}' has dtype ${dtype}; kilosecond reads F32 and I64`);
    const [begin, end] = offsets;
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * BYTES[dtype]) {
      throw new UserError(`${path}: tensor '${name}' spans ${end - begin} bytes but shape [${shape}] of ${dtype} needs ${count * BYTES[dtype]}`);
    }
    if (dataStart + end > bytes.length) {
      throw new UserError(`${path}: tensor '${name}' ends at byte ${dataStart + end} but the file has ${bytes.length}; the file is truncated`);
    }
    // Copy so the result is aligned and independent of the file buffer.
    const raw = new Uint8Array(bytes.subarray(dataStart + begin, dataStart + end));
    const data = dtype === 'F32' ? new Float32Array(raw.buffer, 0, count) : new BigInt64Array(raw.buffer, 0, count);
    tensors.set(name, { dtype, shape, data });
  }
  return { tensors, metadata };
}

/** Serialise tensors (in insertion order) and string metadata. */
export function encodeSafetensors(tensors: Map<string, SafeTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    const size = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  const headerLength = json.length + ((8 - ((8 + json.length) % 8)) % 8);
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

/** The F32 tensor `name`, or a UserError naming the file and what was expected. */
export function requireF32(file: SafeFile, name: string, path: string, shape?: number[]): Float32Array {
  const t = file.tensors.get(name);
  if (!t) throw new UserError(`${path}: tensor '${name}' is missing`);
  if (t.dtype !== 'F32') throw new UserError(`${path}: tensor '${name}' is ${t.dtype}, expected F32`);
  if (shape && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))) {
    throw new UserError(`${path}: tensor '${name}' has shape [${t.shape}], expected [${shape}]`);
  }
  return t.data as Float32Array;
}
