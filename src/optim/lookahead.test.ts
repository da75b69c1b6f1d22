/**
 * @file Lookahead's arithmetic, step by step, against the formula computed here in float64.
 */
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { createReferenceBackend } from '../backends/reference/index.js';
import { Tensor } from '../core/tensor.js';
import { Lookahead } from './lookahead.js';

it('moves the average towards the weights and the weights back to it', async () => {
  const backend = createReferenceBackend({ precision: 'float64' });
  const w = Tensor.empty(backend, [3]);
  backend.writeExact(w.buffer, Float64Array.of(1, -2, 4));
  const lookahead = new Lookahead([w]);
  let ema = [1, -2, 4];
  for (const [weights, decay] of [[[3, 0, 4], 0.9], [[-1, 1, 2], 0.5], [[0, 0, 0], 0]] as const) {
    backend.writeExact(w.buffer, Float64Array.from(weights));
    lookahead.step(decay);
    ema = ema.map((e, i) => e + (1 - decay) * (weights[i]! - e));
    const got = Array.from(backend.readExact(w.buffer));
    got.forEach((v, i) => assert.ok(Math.abs(v - ema[i]!) < 1e-15, `decay ${decay}: w[${i}] = ${v}, expected ${ema[i]}`));
  }
  assert.deepEqual(ema, [0, 0, 0], 'decay 0 takes the weights as they are');
  lookahead.dispose();
  w.dispose();
});
