/**
 * @file Just enough of the protobuf wire format for tf.train.Example and TensorBoard's Event:
 * varints, 32/64-bit fixed values and length-delimited fields. Numbers are JS numbers, so int64
 * values must stay below 2^53 (image indices, labels and step counts all do).
 */

export const WireType = { Varint: 0, Fixed64: 1, LengthDelimited: 2, Fixed32: 5 } as const;

/**
 * Builds one message. Nested messages are kept as writers and laid out once by `finish()`, which
 * allocates the final buffer and copies each payload (an image, say) exactly once.
 */
export class ProtoWriter {
  private readonly parts: Array<Uint8Array | ProtoWriter> = [];
  /** Encoded size in bytes, nested writers included. */
  length = 0;

  private push(part: Uint8Array | ProtoWriter): this {
    this.parts.push(part);
    this.length += part.length;
    return this;
  }

  /** Tags, lengths and small values are mostly one byte: share those arrays. */
  private static readonly oneByte = Array.from({ length: 128 }, (_, i) => Uint8Array.of(i));
  /** Feature names repeat in every record: encode each once. */
  private static readonly utf8 = new Map<string, Uint8Array>();

  private static varintBytes(value: number): Uint8Array {
    if (value >= 0 && value < 128 && Number.isInteger(value)) return ProtoWriter.oneByte[value]!;
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint ${value}: only non-negative safe integers are supported`);
    const out: number[] = [];
    while (value >= 0x80) {
      out.push((value % 0x80) | 0x80);
      value = Math.floor(value / 0x80);
    }
    out.push(value);
    return Uint8Array.from(out);
  }

  private tag(field: number, wireType: number): this {
    return this.push(ProtoWriter.varintBytes(field * 8 + wireType));
  }

  uint64(field: number, value: number): this {
    return this.tag(field, WireType.Varint).push(ProtoWriter.varintBytes(value));
  }

  bytes(field: number, value: Uint8Array): this {
    return this.tag(field, WireType.LengthDelimited).push(ProtoWriter.varintBytes(value.length)).push(value);
  }

  string(field: number, value: string): this {
    let bytes = ProtoWriter.utf8.get(value);
    if (!bytes) {
      bytes = Buffer.from(value, 'utf8');
      if (ProtoWriter.utf8.size < 1024) ProtoWriter.utf8.set(value, bytes);
    }
    return this.bytes(field, bytes);
  }

  message(field: number, inner: ProtoWriter): this {
    return this.tag(field, WireType.LengthDelimited).push(ProtoWriter.varintBytes(inner.length)).push(inner);
  }

  /** A packed repeated varint field (proto3's default for repeated scalars). */
  packedUint64(field: number, values: readonly number[]): this {
    const packed = new ProtoWriter();
    for (const v of values) packed.push(ProtoWriter.varintBytes(v));
    return this.message(field, packed);
  }

  float(field: number, value: number): this {
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    return this.tag(field, WireType.Fixed32).push(b);
  }

  double(field: number, value: number): this {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(value);
    return this.tag(field, WireType.Fixed64).push(b);
  }

  private writeInto(out: Buffer, at: number): number {
    for (const part of this.parts) {
      if (part instanceof ProtoWriter) at = part.writeInto(out, at);
      else {
        out.set(part, at);
        at += part.length;
      }
    }
    return at;
  }

  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.length);
    this.writeInto(out, 0);
    return out;
  }
}

export class ProtoError extends Error {}

/** Reads a varint at `pos`; returns [value, next position]. */
export function readVarint(buf: Uint8Array, pos: number, end: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new ProtoError(`varint runs past the end of the message at byte ${pos}`);
    const b = buf[pos++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, pos];
    scale *= 0x80;
  }
  throw new ProtoError(`varint longer than 10 bytes at byte ${pos}`);
}

/**
 * One field as `nextField` found it. Decoders reuse a single instance for every field (the
 * loader decodes tens of thousands of records a second: no allocation per field).
 */
export class FieldCursor {
  field = 0;
  wireType = 0;
  /** The varint's value (wire type 0). */
  varint = 0;
  /** Where the value's bytes are (other wire types). */
  start = 0;
  end = 0;
}

/** Reads the field at `pos` into `f` and returns the position after it. */
export function nextField(buf: Uint8Array, pos: number, end: number, f: FieldCursor): number {
  const [key, afterKey] = readVarint(buf, pos, end);
  f.field = Math.floor(key / 8);
  f.wireType = key & 7;
  pos = afterKey;
  let size: number;
  switch (f.wireType) {
    case WireType.Varint:
      [f.varint, pos] = readVarint(buf, pos, end);
      f.start = f.end = pos;
      return pos;
    case WireType.Fixed64: size = 8; break;
    case WireType.Fixed32: size = 4; break;
    case WireType.LengthDelimited: [size, pos] = readVarint(buf, pos, end); break;
    default: throw new ProtoError(`unsupported wire type ${f.wireType} for field ${f.field} at byte ${afterKey - 1}`);
  }
  if (pos + size > end) throw new ProtoError(`field ${f.field} of ${size} bytes at byte ${pos} runs past the end of its message (byte ${end})`);
  f.start = pos;
  f.end = pos + size;
  return f.end;
}
