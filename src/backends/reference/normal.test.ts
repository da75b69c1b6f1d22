/**
 * @file The reference GELU, which the fast backends are judged against, against PyTorch itself:
 * torch.nn.functional.gelu (exact, erf-based) and its gradient, in float64, at points across
 * both tails and near zero. PyTorch computes 0.5 x (1 + erf(x / sqrt 2)), which cancels in the
 * left tail (gelu(-6.5) is about 3e-10 of the 1 it subtracts from), so it is matched in absolute
 * terms there; the relative check in the tails is against Python's math.erfc, which does not cancel.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { it } from 'node:test';
import { needTorch } from '../../testing/needs.js';
import { createReferenceBackend } from './index.js';

const points = [-9, -6.5, -4, -2.5, -1, -0.3, -1e-3, 0, 2e-4, 0.5, 1.7, 3, 5.5, 8];

const torchScript = `
import json, math, sys, torch
points = json.loads(sys.argv[1])
x = torch.tensor(points, dtype=torch.float64, requires_grad=True)
y = torch.nn.functional.gelu(x)
y.backward(torch.ones_like(y))
cdf = [0.5 * math.erfc(-p / math.sqrt(2)) for p in points]
exact = [p * c for p, c in zip(points, cdf)]
exact_grad = [c + p * math.exp(-p * p / 2) / math.sqrt(2 * math.pi) for p, c in zip(points, cdf)]
print(json.dumps({"y": y.tolist(), "dydx": x.grad.tolist(), "exact": exact, "exactGrad": exact_grad}))
`;

it('matches PyTorch\'s exact GELU and its gradient in float64', async (t) => {
  if (!needTorch(t)) return;
  const torch = JSON.parse(execFileSync('/usr/bin/python3', ['-c', torchScript, JSON.stringify(points)], { encoding: 'utf8' })) as
    { y: number[]; dydx: number[]; exact: number[]; exactGrad: number[] };
  const reference = createReferenceBackend({ precision: 'float64' });
  const [x, y, ones, gx] = [points, points, points, points].map(() => reference.alloc(points.length));
  reference.writeExact(x!, Float64Array.from(points));
  reference.fill(ones!, 1);
  reference.gelu({ x: x!, y: y! }, { length: points.length });
  reference.geluBackward({ x: x!, gy: ones!, gx: gx! }, { length: points.length });
  const [ours, oursGrad] = [reference.readExact(y!), reference.readExact(gx!)];
  points.forEach((p, i) => {
    const absolute = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-15 * (1 + Math.abs(p));
    const relative = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-13 * Math.abs(b);
    assert.ok(absolute(ours[i]!, torch.y[i]!), `gelu(${p}): ${ours[i]} vs PyTorch ${torch.y[i]}`);
    assert.ok(absolute(oursGrad[i]!, torch.dydx[i]!), `gelu'(${p}): ${oursGrad[i]} vs PyTorch ${torch.dydx[i]}`);
    assert.ok(relative(ours[i]!, torch.exact[i]!), `gelu(${p}): ${ours[i]} vs x * erfc(-x / sqrt 2) / 2 = ${torch.exact[i]}`);
    assert.ok(relative(oursGrad[i]!, torch.exactGrad[i]!), `gelu'(${p}): ${oursGrad[i]} vs ${torch.exactGrad[i]}`);
  });
});
