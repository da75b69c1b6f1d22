/**
 * @file TFRecord framing, as TensorFlow writes and reads it:
 *
 *     uint64 length (little endian) | uint32 masked_crc32c(length bytes) | data | uint32 masked_crc32c(data)
 *     masked_crc = ((crc >>> 15) | (crc << 17)) + 0xa282ead8   (mod 2^32)
 *
 * The mask exists because a CRC of data that itself contains CRCs is weak; TensorFlow applies it
 * to every stored CRC, and TensorBoard event files use the same framing.
 */
import { crc32c } from '@node-rs/crc32';

const recordOverhead = 16;

export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c(data) >>> 0;
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One framed record. */
export function frameRecord(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(payload.length + recordOverhead);
  out.writeUInt32LE(payload.length % 0x100000000, 0);
  out.writeUInt32LE(Math.floor(payload.length / 0x100000000), 4);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(payload, 12);
  out.writeUInt32LE(maskedCrc32c(payload), 12 + payload.length);
  return out;
}

export class RecordError extends Error {
  constructor(message: string, readonly record: number, readonly offset: number) {
    super(message);
  }
}

/**
 * The payloads of the records in `data` (views, no copies). Throws RecordError with the record
 * number and byte offset on a truncated record or, when `verify` is on, a CRC mismatch.
 */
export function* readRecords(data: Buffer, verify = true): Generator<Buffer> {
  let pos = 0;
  for (let record = 0; pos < data.length; record++) {
    if (pos + 12 > data.length) throw new RecordError(`record ${record} at byte ${pos}: truncated header (${data.length - pos} of 12 bytes)`, record, pos);
    const low = data.readUInt32LE(pos);
    const high = data.readUInt32LE(pos + 4);
    if (verify && maskedCrc32c(data.subarray(pos, pos + 8)) !== data.readUInt32LE(pos + 8)) {
      throw new RecordError(`record ${record} at byte ${pos}: the CRC of the length field does not match`, record, pos);
    }
    const length = high * 0x100000000 + low;
    const end = pos + 12 + length + 4;
    if (end > data.length) {
      throw new RecordError(`record ${record} at byte ${pos}: truncated: it needs ${length + recordOverhead} bytes, the file ends ${data.length - pos} bytes after its start`, record, pos);
    }
    const payload = data.subarray(pos + 12, pos + 12 + length);
    if (verify && maskedCrc32c(payload) !== data.readUInt32LE(end - 4)) {
      throw new RecordError(`record ${record} at byte ${pos}: the CRC of the data does not match`, record, pos);
    }
    yield payload;
    pos = end;
  }
}
