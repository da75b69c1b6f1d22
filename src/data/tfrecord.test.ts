import { crc32c } from '@node-rs/crc32';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeImageExample, encodeFeatures, encodeImageExample } from './example.js';
import { ProtoError, ProtoWriter } from './protobuf.js';
import { frameRecord, maskedCrc32c, readRecords, RecordError } from './tfrecord.js';

test('CRC32C matches the published check values (RFC 3720 B.4 and the standard check)', () => {
  assert.equal(crc32c(Buffer.from('123456789')) >>> 0, 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(32, 0)) >>> 0, 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)) >>> 0, 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)) >>> 0, 0x46dd794e);
});

test('the mask is TensorFlow\'s: rotate right 15, add 0xa282ead8', () => {
  const data = Buffer.from('123456789');
  const crc = 0xe3069283;
  const rotated = ((crc >>> 15) | (crc << 17)) >>> 0;
  assert.equal(maskedCrc32c(data), (rotated + 0xa282ead8) % 2 ** 32);
});

/**
 * An independent reader, from the TFRecord and protobuf specs, sharing no code with ours:
 * framing, then Example -> Features -> map entries -> Feature (bytes_list = 1, int64_list = 3).
 */
function independentRead(file: Buffer): Array<Record<string, Buffer | bigint[]>> {
  const crcTable = new Uint32Array(256).map((_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Uint8Array) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const mask = (c: number) => Number((((BigInt(c) >> 15n) | (BigInt(c) << 17n)) + 0xa282ead8n) & 0xffffffffn);
  const varint = (b: Buffer, p: { i: number }) => {
    let v = 0n;
    let s = 0n;
    for (;;) {
      const x = b[p.i++]!;
      v |= BigInt(x & 0x7f) << s;
      s += 7n;
      if (x < 128) return v;
    }
  };
  const fields = (b: Buffer) => {
    const out: Array<[number, Buffer | bigint]> = [];
    const p = { i: 0 };
    while (p.i < b.length) {
      const key = Number(varint(b, p));
      if ((key & 7) === 0) out.push([key >> 3, varint(b, p)]);
      else if ((key & 7) === 2) {
        const n = Number(varint(b, p));
        out.push([key >> 3, b.subarray(p.i, p.i + n)]);
        p.i += n;
      } else throw new Error(`wire type ${key & 7}`);
    }
    return out;
  };
  const records: Array<Record<string, Buffer | bigint[]>> = [];
  for (let at = 0; at < file.length;) {
    const len = Number(file.readBigUInt64LE(at));
    assert.equal(file.readUInt32LE(at + 8), mask(crc(file.subarray(at, at + 8))));
    const payload = file.subarray(at + 12, at + 12 + len);
    assert.equal(file.readUInt32LE(at + 12 + len), mask(crc(payload)));
    const rec: Record<string, Buffer | bigint[]> = {};
    for (const [f1, features] of fields(payload)) {
      assert.equal(f1, 1);
      for (const [f2, entry] of fields(features as Buffer)) {
        assert.equal(f2, 1);
        const kv = Object.fromEntries(fields(entry as Buffer)) as Record<number, Buffer>;
        const [[kind, list]] = fields(kv[2]!) as [[number, Buffer]];
        if (kind === 1) rec[kv[1]!.toString()] = fields(list)[0]![1] as Buffer;
        else {
          const [[, packed]] = fields(list) as [[number, Buffer]];
          const p = { i: 0 };
          const vals: bigint[] = [];
          while (p.i < packed.length) vals.push(varint(packed, p));
          rec[kv[1]!.toString()] = vals;
        }
      }
    }
    records.push(rec);
    at += 12 + len + 4;
  }
  return records;
}

const sample = (index: number) => ({
  image: Uint8Array.from({ length: 32 * 32 * 3 }, (_, i) => (i * 31 + index) % 256),
  label: index % 10, height: 32, width: 32, channels: 3, index: index * 1000 + 7,
});

test('records we write are read back by an independent reader written from the spec', () => {
  const file = Buffer.concat([0, 1, 2, 300].map((i) => frameRecord(encodeImageExample(sample(i)))));
  const records = independentRead(file);
  assert.equal(records.length, 4);
  [0, 1, 2, 300].forEach((i, r) => {
    const s = sample(i);
    const rec = records[r]!;
    assert.deepEqual(new Uint8Array(rec['image'] as Buffer), s.image);
    assert.deepEqual(rec['label'], [BigInt(s.label)]);
    assert.deepEqual(rec['index'], [BigInt(s.index)]);
    assert.deepEqual([rec['height'], rec['width'], rec['channels']], [[32n], [32n], [3n]]);
  });
});

test('our reader and decoder round-trip what we write', () => {
  const file = Buffer.concat([5, 6].map((i) => frameRecord(encodeImageExample(sample(i)))));
  const decoded = [...readRecords(file)].map(decodeImageExample);
  assert.deepEqual(decoded.map((d) => ({ ...d, image: new Uint8Array(d.image) })), [sample(5), sample(6)]);
});

test('a bad CRC or a truncated record names the record and byte offset', () => {
  const one = frameRecord(encodeImageExample(sample(1)));
  const file = Buffer.concat([one, one, one]);
  const flipped = Buffer.from(file);
  flipped[one.length + 100] ^= 0x10;
  assert.throws(() => [...readRecords(flipped)], (e) => e instanceof RecordError && e.record === 1 && e.offset === one.length && /CRC of the data/.test(e.message));
  const badLength = Buffer.from(file);
  badLength[2 * one.length] ^= 1;
  assert.throws(() => [...readRecords(badLength)], (e) => e instanceof RecordError && e.record === 2 && /CRC of the length/.test(e.message));
  assert.throws(() => [...readRecords(file.subarray(0, file.length - 5))], (e) => e instanceof RecordError && e.record === 2 && e.offset === 2 * one.length && /truncated/.test(e.message));
  assert.throws(() => [...readRecords(file.subarray(0, one.length + 7))], (e) => e instanceof RecordError && e.record === 1 && /truncated header/.test(e.message));
  // Without verification a flipped payload byte passes the framing.
  assert.equal([...readRecords(flipped, false)].length, 3);
});

test('malformed Examples are ProtoErrors that say what is wrong', () => {
  const good = encodeImageExample(sample(3));
  assert.throws(() => decodeImageExample(good.subarray(0, good.length - 40)), (e) => e instanceof ProtoError && /runs past the end/.test(e.message));
  const noLabel = encodeFeatures({ image: { bytes: [new Uint8Array(12)] }, height: { int64: [2] }, width: { int64: [2] }, channels: { int64: [3] }, index: { int64: [0] } });
  assert.throws(() => decodeImageExample(noLabel), (e) => e instanceof ProtoError && /feature 'label' \(int64\) is missing/.test(e.message));
  const wrongSize = encodeFeatures({ image: { bytes: [new Uint8Array(11)] }, label: { int64: [1] }, height: { int64: [2] }, width: { int64: [2] }, channels: { int64: [3] }, index: { int64: [0] } });
  assert.throws(() => decodeImageExample(wrongSize), (e) => e instanceof ProtoError && /has 11 bytes, height\*width\*channels = 12/.test(e.message));
  // Unpacked int64 lists (legal protobuf, other writers may emit them) decode too.
  const map = new ProtoWriter();
  const int = (key: string, v: number) => map.message(1, new ProtoWriter().string(1, key).message(2, new ProtoWriter().message(3, new ProtoWriter().uint64(1, v))));
  map.message(1, new ProtoWriter().string(1, 'image').message(2, new ProtoWriter().message(1, new ProtoWriter().bytes(1, new Uint8Array(4)))));
  int('label', 7); int('height', 2); int('width', 2); int('channels', 1); int('index', 300);
  const unpacked = decodeImageExample(new ProtoWriter().message(1, map).finish());
  assert.deepEqual([unpacked.label, unpacked.index, unpacked.image.length], [7, 300, 4]);
});
