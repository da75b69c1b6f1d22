/**
 * @file TensorBoard event files, so that `tensorboard --logdir DIR` shows our curves.
 *
 * A file `events.out.tfevents.<seconds>.<host>` is a TFRecord stream (src/data/tfrecord.ts) of
 * `Event` protos: first `file_version: "brain.Event:2"`, then one event per scalar:
 *
 *     Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
 *     Summary { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
 *
 * Unlike our other outputs this file is appended to while training runs (TensorBoard reads it
 * live), so it is not written under a temporary name: each record carries its own CRCs, and
 * readers skip a torn last record.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ProtoWriter } from '../data/protobuf.js';
import { frameRecord } from '../data/tfrecord.js';

export const fileVersion = 'brain.Event:2';

/** What every event file's name starts with (TensorBoard reads every such file in a folder). */
export const eventFilePrefix = 'events.out.tfevents.';

function encodeEvent(wallTime: number, step: number, body: (event: ProtoWriter) => void): Buffer {
  const event = new ProtoWriter().double(1, wallTime).uint64(2, step);
  body(event);
  return frameRecord(event.finish());
}

export class EventWriter {
  /** The event file's full path. */
  readonly path: string;
  private fd: number | undefined;

  constructor(logDir: string, opts: { wallTime?: number; host?: string } = {}) {
    const wallTime = opts.wallTime ?? Date.now() / 1000;
    mkdirSync(logDir, { recursive: true });
    this.path = join(logDir, `${eventFilePrefix}${Math.floor(wallTime)}.${opts.host ?? hostname()}`);
    this.fd = openSync(this.path, 'a');
    this.write(encodeEvent(wallTime, 0, (e) => e.string(3, fileVersion)));
  }

  private write(record: Buffer): void {
    if (this.fd === undefined) throw new Error(`EventWriter for ${this.path} is closed`);
    writeSync(this.fd, record);
  }

  /** One point of the curve `tag` (e.g. "train/loss") at training step `step`. */
  scalar(tag: string, value: number, step: number, wallTime = Date.now() / 1000): void {
    const summaryValue = new ProtoWriter().string(1, tag).float(2, value);
    this.write(encodeEvent(wallTime, step, (e) => e.message(5, new ProtoWriter().message(1, summaryValue))));
  }

  /** Pushes what was written to the disk (TensorBoard sees it either way; this survives a crash). */
  flush(): void {
    if (this.fd !== undefined) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd === undefined) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
  }
}
