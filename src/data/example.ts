/**
 * @file tf.train.Example, the record payload TensorFlow's image pipelines use:
 *
 *     Example  { Features features = 1; }
 *     Features { map<string, Feature> feature = 1; }   // map entry: key = 1, value = 2
 *     Feature  { oneof kind { BytesList bytes_list = 1; FloatList float_list = 2; Int64List int64_list = 3; } }
 *     BytesList { repeated bytes value = 1; }  Int64List { repeated int64 value = 1 [packed]; }
 *
 * Our images: `image` (bytes, uint8 HWC), `label`, `height`, `width`, `channels`, `index` (int64).
 */
import { FieldCursor, nextField, ProtoError, ProtoWriter, readVarint, WireType } from './protobuf.js';

/** A feature as written: a list of byte strings or of int64s. */
export type FeatureValue = { bytes: Uint8Array[] } | { int64: number[] };

export interface ImageExample {
  image: Uint8Array;
  label: number;
  height: number;
  width: number;
  channels: number;
  /** Position of the image in the source training set. */
  index: number;
}

export function encodeFeatures(features: Record<string, FeatureValue>): Buffer {
  const map = new ProtoWriter();
  // Sorted keys make the bytes independent of insertion order (TensorFlow does the same).
  for (const key of Object.keys(features).sort()) {
    const value = features[key]!;
    const feature = new ProtoWriter();
    if ('bytes' in value) {
      const list = new ProtoWriter();
      for (const b of value.bytes) list.bytes(1, b);
      feature.message(1, list);
    } else {
      feature.message(3, new ProtoWriter().packedUint64(1, value.int64));
    }
    map.message(1, new ProtoWriter().string(1, key).message(2, feature));
  }
  return new ProtoWriter().message(1, map).finish();
}

export function encodeImageExample(e: ImageExample): Buffer {
  return encodeFeatures({
    image: { bytes: [e.image] },
    label: { int64: [e.label] },
    height: { int64: [e.height] },
    width: { int64: [e.width] },
    channels: { int64: [e.channels] },
    index: { int64: [e.index] },
  });
}

/** The first value of a Feature (bytes_list = 1 or int64_list = 3) in buf[start, end). */
function firstValue(buf: Buffer, start: number, end: number, f: FieldCursor): { bytes?: Buffer; int?: number } {
  for (let p = start; p < end;) {
    p = nextField(buf, p, end, f);
    const kind = f.field;
    if (kind !== 1 && kind !== 3) continue;
    const listEnd = f.end;
    for (let q = f.start; q < listEnd;) {
      q = nextField(buf, q, listEnd, f);
      if (f.field !== 1) continue;
      if (kind === 1) return { bytes: buf.subarray(f.start, f.end) };
      if (f.wireType === WireType.Varint) return { int: f.varint };
      if (f.end > f.start) return { int: readVarint(buf, f.start, f.end)[0] }; // packed
    }
  }
  return {};
}

/**
 * Reads our image features, walking the wire format in place (no copies: `image` is a view of
 * `payload`); throws ProtoError naming what is missing or inconsistent.
 */
export function decodeImageExample(payload: Buffer): ImageExample {
  const f = new FieldCursor();
  const ints = new Map<string, number>();
  let image: Buffer | undefined;
  for (let p = 0; p < payload.length;) {
    p = nextField(payload, p, payload.length, f);
    if (f.field !== 1 || f.wireType !== WireType.LengthDelimited) continue;
    const featuresEnd = f.end;
    for (let q = f.start; q < featuresEnd;) {
      q = nextField(payload, q, featuresEnd, f);
      if (f.field !== 1 || f.wireType !== WireType.LengthDelimited) continue;
      const entryEnd = f.end;
      let key = '';
      let valueStart = -1;
      let valueEnd = -1;
      for (let r = f.start; r < entryEnd;) {
        r = nextField(payload, r, entryEnd, f);
        if (f.field === 1) key = payload.toString('latin1', f.start, f.end);
        else if (f.field === 2) [valueStart, valueEnd] = [f.start, f.end];
      }
      if (valueStart < 0) continue;
      const value = firstValue(payload, valueStart, valueEnd, f);
      if (key === 'image' && value.bytes) image = value.bytes;
      else if (value.int !== undefined) ints.set(key, value.int);
    }
  }
  const int = (key: string): number => {
    const v = ints.get(key);
    if (v === undefined) throw new ProtoError(`feature '${key}' (int64) is missing`);
    return v;
  };
  if (!image) throw new ProtoError(`feature 'image' (bytes) is missing`);
  const e = { image, label: int('label'), height: int('height'), width: int('width'), channels: int('channels'), index: int('index') };
  if (e.image.length !== e.height * e.width * e.channels) {
    throw new ProtoError(`feature 'image' has ${e.image.length} bytes, height*width*channels = ${e.height * e.width * e.channels}`);
  }
  return e;
}
