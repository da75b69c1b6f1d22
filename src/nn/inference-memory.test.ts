/**
 * @file An inference forward pass holds about one layer's activations, not all of them: each
 * network releases its intermediates as soon as the next layer has read them (Graph.release).
 * Evaluation with six test-time views held every view's activations before (9 GB on CIFAR-10).
 * The logits must not change: a buffer released too early would be recycled and overwritten.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createReferenceBackend } from '../backends/reference/index.js';
import { Graph } from '../core/graph.js';
import { Tensor } from '../core/tensor.js';
import { createNetwork } from './create-network.js';
import { architectures } from './network.js';

for (const architecture of architectures) {
  describe(`inference memory of ${architecture}`, () => {
    it('peaks under half of the activations a recording pass keeps, with the same logits', async () => {
      const backend = createReferenceBackend();
      // The peak of live bytes, read after every allocation.
      let peak = 0;
      const alloc = backend.alloc.bind(backend);
      backend.alloc = (length) => {
        const buffer = alloc(length);
        peak = Math.max(peak, backend.memoryStats().liveBytes);
        return buffer;
      };
      const model = createNetwork(backend, { architecture, inChannels: 3, classes: 5, width: 8 }, 1);
      const images = Tensor.fromArray(backend, [4, 32, 32, 3], Float32Array.from({ length: 4 * 32 * 32 * 3 }, (_, i) => Math.sin(i)));
      const forward = async (record: boolean): Promise<{ logits: Float32Array; activationBytes: number; heldAtEnd: number }> => {
        const before = backend.memoryStats().liveBytes;
        peak = before;
        const g = new Graph(backend, { record });
        try {
          const logits = await model.forward(g, images, { training: false }).read();
          return { logits, activationBytes: peak - before, heldAtEnd: backend.memoryStats().liveBytes - before };
        } finally {
          g.dispose();
        }
      };
      const recorded = await forward(true);
      const inference = await forward(false);
      assert.deepEqual(inference.logits, recorded.logits, 'releasing intermediates changed the logits');
      // At most the widest layer's input, convolution output and normalised output at once (at
      // this size its three tensors are 38-43% of everything); a recording pass keeps them all.
      assert.ok(inference.activationBytes < recorded.activationBytes / 2,
        `inference peaked at ${inference.activationBytes} bytes of activations, a recording pass at ${recorded.activationBytes}`);
      assert.ok(inference.heldAtEnd < 1024, `${inference.heldAtEnd} bytes still held after the inference pass returned its logits`);
      images.dispose();
      model.dispose();
      assert.equal(backend.memoryStats().liveBytes, 0);
    });
  });
}
