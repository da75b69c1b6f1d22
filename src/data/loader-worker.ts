/**
 * @file The worker thread behind the streaming loader: builds its batch source from workerData
 * and answers batch requests one at a time, transferring (not copying) each batch's buffers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UserError, type MessagePart } from '../core/errors.js';
import { createSource, type SourceSpec } from './batch-source.js';

export interface BatchRequest { id: number; epoch: number; batch: number }
export type BatchReply =
  | { id: number; ok: true; images: Float32Array; labels: Float32Array; size: number }
  /** A UserError goes as its parts, so that its settings stay structured across the thread boundary. */
  | { id: number; ok: false; message: string; userError?: readonly MessagePart[] };

const source = createSource(workerData as SourceSpec);
const port = parentPort!;

port.on('message', (req: BatchRequest) => {
  let reply: BatchReply;
  try {
    const b = source.produce(req.epoch, req.batch);
    reply = { id: req.id, ok: true, images: b.images, labels: b.labels, size: b.size };
    port.postMessage(reply, [b.images.buffer as ArrayBuffer, b.labels.buffer as ArrayBuffer]);
    return;
  } catch (err) {
    reply = err instanceof UserError
      ? { id: req.id, ok: false, message: err.message, userError: err.parts }
      : { id: req.id, ok: false, message: (err as Error).stack ?? String(err) };
  }
  port.postMessage(reply);
});
