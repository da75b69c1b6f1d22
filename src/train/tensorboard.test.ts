import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EventWriter } from './tensorboard.js';

/** Reads an event file from the formats alone: TFRecord framing, then Event protos field by field. */
function readEvents(file: Buffer): Array<{ wallTime: number; step: number; fileVersion?: string; tag?: string; value?: number }> {
  const varint = (b: Buffer, p: { i: number }) => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const x = b[p.i++]!;
      v += (x & 0x7f) * mul;
      mul *= 128;
      if (x < 128) return v;
    }
  };
  const fields = (b: Buffer) => {
    const out = new Map<number, Buffer | number>();
    const p = { i: 0 };
    while (p.i < b.length) {
      const key = varint(b, p);
      const wire = key & 7;
      if (wire === 0) out.set(key >> 3, varint(b, p));
      else if (wire === 1) { out.set(key >> 3, b.subarray(p.i, p.i + 8)); p.i += 8; }
      else if (wire === 5) { out.set(key >> 3, b.subarray(p.i, p.i + 4)); p.i += 4; }
      else { const n = varint(b, p); out.set(key >> 3, b.subarray(p.i, p.i + n)); p.i += n; }
    }
    return out;
  };
  const events = [];
  for (let at = 0; at < file.length;) {
    const len = Number(file.readBigUInt64LE(at));
    const ev = fields(file.subarray(at + 12, at + 12 + len));
    const e: { wallTime: number; step: number; fileVersion?: string; tag?: string; value?: number } = {
      wallTime: (ev.get(1) as Buffer).readDoubleLE(0), step: (ev.get(2) as number | undefined) ?? 0,
    };
    if (ev.has(3)) e.fileVersion = (ev.get(3) as Buffer).toString();
    if (ev.has(5)) {
      const value = fields(fields(ev.get(5) as Buffer).get(1) as Buffer);
      e.tag = (value.get(1) as Buffer).toString();
      e.value = (value.get(2) as Buffer).readFloatLE(0);
    }
    events.push(e);
    at += 12 + len + 4;
  }
  return events;
}

test('an event file starts with brain.Event:2 and holds the scalars written, in order', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kilosecond-tb-'));
  try {
    const w = new EventWriter(join(dir, 'run'), { wallTime: 1700000000.5, host: 'testhost' });
    w.scalar('train/loss', 2.25, 0, 1700000001);
    w.scalar('train/loss', 1.5, 98, 1700000002);
    w.scalar('test/accuracy', 0.9375, 98, 1700000003);
    w.close();
    assert.deepEqual(await readdir(join(dir, 'run')), ['events.out.tfevents.1700000000.testhost']);
    const events = readEvents(await readFile(w.path));
    assert.deepEqual(events, [
      { wallTime: 1700000000.5, step: 0, fileVersion: 'brain.Event:2' },
      { wallTime: 1700000001, step: 0, tag: 'train/loss', value: 2.25 },
      { wallTime: 1700000002, step: 98, tag: 'train/loss', value: 1.5 },
      { wallTime: 1700000003, step: 98, tag: 'test/accuracy', value: 0.9375 },
    ]);
    assert.throws(() => w.scalar('late', 1, 1), /closed/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
