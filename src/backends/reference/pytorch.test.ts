/**
 * @file Reference kernels that no network fixture covers yet, against PyTorch itself, in float64.
 * The fast backends are judged against the reference (src/backends/kernels.test.ts), so this
 * ties them to PyTorch too.
 *
 * GELU: torch.nn.functional.gelu (exact, erf-based) and its gradient, in float64, at points across
 * both tails and near zero. PyTorch computes 0.5 x (1 + erf(x / sqrt 2)), which cancels in the
 * left tail (gelu(-6.5) is about 3e-10 of the 1 it subtracts from), so it is matched in absolute
 * terms there; the relative check in the tails is against Python's math.erfc, which does not cancel.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { it } from 'node:test';
import { needTorch } from '../../testing/needs.js';
import { convShape } from '../../core/ops/conv.js';
import { randomArray } from '../../testing/kernel-check.js';
import { createReferenceBackend } from './index.js';

/** Runs a Python script with /usr/bin/python3 (Debian's PyTorch) on JSON input; parses its JSON output. */
function python<T>(script: string, input: unknown): T {
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, JSON.stringify(input)], { encoding: 'utf8' })) as T;
}

const points = [-9, -6.5, -4, -2.5, -1, -0.3, -1e-3, 0, 2e-4, 0.5, 1.7, 3, 5.5, 8];

const geluScript = `
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

it('GELU matches PyTorch\'s exact GELU and its gradient in float64', async (t) => {
  if (!needTorch(t)) return;
  const torch = python<{ y: number[]; dydx: number[]; exact: number[]; exactGrad: number[] }>(geluScript, points);
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

const convScript = `
import json, sys, torch
d = json.loads(sys.argv[1])
s = d["shape"]
# NHWC / HWIO here, NCHW / OIHW in PyTorch.
x = torch.tensor(d["x"], dtype=torch.float64).reshape(s["n"], s["h"], s["w"], s["cin"]).permute(0, 3, 1, 2).requires_grad_()
w = torch.tensor(d["w"], dtype=torch.float64).reshape(s["k"], s["k"], s["cin"], s["cout"]).permute(3, 2, 0, 1).requires_grad_()
y = torch.nn.functional.conv2d(x, w, padding=s["pad"])
gy = torch.tensor(d["gy"], dtype=torch.float64).reshape(y.shape[0], y.shape[2], y.shape[3], y.shape[1]).permute(0, 3, 1, 2)
y.backward(gy)
print(json.dumps({
  "y": y.permute(0, 2, 3, 1).flatten().tolist(),
  "gx": x.grad.permute(0, 2, 3, 1).flatten().tolist(),
  "gw": w.grad.permute(2, 3, 1, 0).flatten().tolist(),
}))
`;

it('the general convolution and its gradients match torch.nn.functional.conv2d', (t) => {
  if (!needTorch(t)) return;
  const reference = createReferenceBackend({ precision: 'float64' });
  for (const shape of [{ n: 2, h: 6, w: 5, cin: 3, cout: 4, k: 2, pad: 0 }, { n: 1, h: 5, w: 7, cin: 2, cout: 3, k: 4, pad: 2 }]) {
    const s = convShape(shape);
    const data = {
      x: Array.from(randomArray(s.n * s.h * s.w * s.cin, 1)),
      w: Array.from(randomArray(s.k * s.k * s.cin * s.cout, 2)),
      gy: Array.from(randomArray(s.n * s.oh * s.ow * s.cout, 3)),
    };
    const torch = python<{ y: number[]; gx: number[]; gw: number[] }>(convScript, { shape: s, ...data });
    const buffer = (values: number[] | number): ReturnType<typeof reference.alloc> => {
      const b = reference.alloc(typeof values === 'number' ? values : values.length);
      if (typeof values !== 'number') reference.writeExact(b, Float64Array.from(values));
      return b;
    };
    const [x, w, gy] = [buffer(data.x), buffer(data.w), buffer(data.gy)];
    const [y, gx, gw] = [buffer(torch.y.length), buffer(torch.gx.length), buffer(torch.gw.length)];
    reference.conv({ x, w, y }, s);
    reference.convBackwardData({ gy, w, gx }, s);
    reference.convBackwardFilter({ x, gy, gw }, s);
    for (const [name, ours, theirs] of [['y', y, torch.y], ['gx', gx, torch.gx], ['gw', gw, torch.gw]] as const) {
      const values = reference.readExact(ours);
      theirs.forEach((v, i) => assert.ok(Math.abs(values[i]! - v) <= 1e-12 * (1 + Math.abs(v)), `${JSON.stringify(shape)} ${name}[${i}]: ${values[i]} vs PyTorch ${v}`));
    }
  }
});
