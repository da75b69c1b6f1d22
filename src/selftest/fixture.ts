/**
 * @file Checks one backend against one PyTorch reference fixture (format:
 * shared/fixtures/README.md): forward logits and losses, every parameter gradient, the whole
 * state after one and two SGD steps, eval-mode logits, and Grad-CAM. Each quantity is reported
 * as a relative error ||ours - ref|| / ||ref|| against its tolerance.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../core/backend.js';
import { UserError } from '../core/errors.js';
import { Graph } from '../core/graph.js';
import { crossEntropy } from '../core/ops/loss.js';
import { Tensor } from '../core/tensor.js';
import { gradCam } from '../explain/gradcam.js';
import { createNetwork } from '../nn/create-network.js';
import { type Architecture, architectures } from '../nn/network.js';
import { readSafetensors } from '../io/safetensors-file.js';
import { type SafeFile, requireF32 } from '../nn/safetensors.js';
import { loadStateDict, stateDict, toTorchLayout } from '../nn/state-dict.js';
import { parametersOf } from '../nn/network.js';
import { Sgd } from '../optim/sgd.js';

/** float32 arithmetic meets these (shared/fixtures/README.md). */
export const Tolerance = { forward: 1e-4, gradient: 1e-3 } as const;

export interface Check {
  name: string;
  relError: number;
  tolerance: number;
  ok: boolean;
}

export function relativeError(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (ours.length !== ref.length) return Infinity;
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < ref.length; i++) {
    diff += (ours[i] - ref[i]) ** 2;
    norm += ref[i] ** 2;
  }
  // A reference of all zeros is judged by the absolute error instead.
  return Math.sqrt(diff) / (norm > 0 ? Math.sqrt(norm) : 1);
}

function compare(name: string, ours: ArrayLike<number>, ref: ArrayLike<number>, tolerance: number): Check {
  const relError = relativeError(ours, ref);
  return { name, relError, tolerance, ok: relError <= tolerance }; // NaN compares false: fails
}

/** NCHW (PyTorch) -> NHWC (ours). */
export function nchwToNhwc(x: Float32Array, n: number, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++)
    for (let ch = 0; ch < c; ch++)
      for (let p = 0; p < h * w; p++) out[(i * h * w + p) * c + ch] = x[(i * c + ch) * h * w + p];
  return out;
}

function labelsOf(file: SafeFile, name: string, path: string): number[] {
  const t = file.tensors.get(name);
  if (!t || t.dtype !== 'I64') throw new UserError(`${path}: int64 tensor '${name}' is missing`);
  return Array.from(t.data as BigInt64Array, Number);
}

function metaNumber(file: SafeFile, key: string, path: string): number {
  const v = Number(file.metadata[key]);
  if (file.metadata[key] === undefined || !Number.isFinite(v)) throw new UserError(`${path}: __metadata__ lacks a numeric '${key}'`);
  return v;
}

/**
 * Runs the fixture in `dir` on `backend`; `observe`, if given, sees every compared quantity's
 * values (the bf16 tests look for gradients that flushed to zero).
 */
export async function runFixture(dir: string, backend: Backend, observe?: (name: string, ours: ArrayLike<number>) => void): Promise<Check[]> {
  const check = (name: string, ours: ArrayLike<number>, ref: ArrayLike<number>, tolerance: number): Check => {
    observe?.(name, ours);
    return compare(name, ours, ref, tolerance);
  };
  const path = join(dir, 'model.safetensors');
  if (!existsSync(path)) throw new UserError(`${dir} is not a fixture folder: ${path} is missing`);
  const file = readSafetensors(path);
  const width = metaNumber(file, 'width', path);
  const smoothing = metaNumber(file, 'label_smoothing', path);
  const lrs = JSON.parse(file.metadata.lrs ?? '[]') as number[];
  if (lrs.length !== 2) throw new UserError(`${path}: __metadata__ 'lrs' must list the two learning rates`);
  const inputInfo = file.tensors.get('input');
  if (!inputInfo || inputInfo.shape.length !== 4) throw new UserError(`${path}: tensor 'input' [N,C,H,W] is missing`);
  const [n, c, h, w] = inputInfo.shape;
  const classifier = file.tensors.get('init.classifier.weight');
  if (!classifier) throw new UserError(`${path}: tensor 'init.classifier.weight' is missing`);
  const classes = classifier.shape[0];
  const ref = (name: string, shape?: number[]): Float32Array => requireF32(file, name, path, shape);

  const architecture = (file.metadata.arch ?? 'resnet9') as Architecture;
  if (!architectures.includes(architecture)) throw new UserError(`${path}: __metadata__ 'arch' is '${architecture}', not one of ${architectures.join(', ')}`);
  const model = createNetwork(backend, { architecture, inChannels: c, classes, width });
  const optimiser = new Sgd(parametersOf(model), {
    momentum: metaNumber(file, 'momentum', path),
    weightDecay: metaNumber(file, 'weight_decay', path),
    nesterov: file.metadata.nesterov === 'True',
  });
  const images = Tensor.fromArray(backend, [n, h, w, c], nchwToNhwc(ref('input'), n, c, h, w));
  const labelValues = labelsOf(file, 'labels', path);
  const labels = Tensor.fromArray(backend, [n], Float32Array.from(labelValues));
  const checks: Check[] = [];
  try {
    loadStateDict(model, file.tensors, path, 'init.');
    for (const [step, lr] of lrs.entries()) {
      const g = new Graph(backend);
      try {
        const logits = model.forward(g, images, { training: true });
        if (step === 0) {
          checks.push(check('step0.logits', await logits.read(), ref('step0.logits'), Tolerance.forward));
          const plain = crossEntropy(g, logits, labels, 0);
          checks.push(check('step0.loss_nosmooth', await plain.read(), ref('step0.loss_nosmooth'), Tolerance.forward));
        }
        const loss = crossEntropy(g, logits, labels, smoothing);
        if (step === 0) checks.push(check('step0.loss', await loss.read(), ref('step0.loss'), Tolerance.forward));
        const grads = g.backward(loss, optimiser.trainable());
        if (step === 0) {
          for (const [name, p] of model.namedParameters()) {
            const grad = grads.get(p);
            const ours = grad ? toTorchLayout(p, await grad.read()) : new Float32Array(0);
            checks.push(check(`step0.grad.${name}`, ours, ref(`step0.grad.${name}`), Tolerance.gradient));
          }
        }
        optimiser.step(grads, lr);
      } finally {
        g.dispose();
      }
      for (const [name, t] of await stateDict(model)) {
        const key = `after${step + 1}.${name}`;
        if (t.dtype === 'I64') {
          const want = labelsOf(file, key, path)[0];
          const got = Number((t.data as BigInt64Array)[0]);
          checks.push({ name: key, relError: got === want ? 0 : Infinity, tolerance: 0, ok: got === want });
        } else {
          checks.push(check(key, t.data as Float32Array, ref(key, t.shape), Tolerance.gradient));
        }
      }
    }

    const g = new Graph(backend, { record: false });
    try {
      const logits = model.forward(g, images, { training: false });
      checks.push(check('eval.logits', await logits.read(), ref('eval.logits'), Tolerance.forward));
    } finally {
      g.dispose();
    }

    const cam = await gradCam(model, images, labelsOf(file, 'gradcam.target', path));
    checks.push(check('gradcam.cam', cam.cams, ref('gradcam.cam'), Tolerance.gradient));
    checks.push(check('gradcam.upsampled', cam.upsampled, ref('gradcam.upsampled'), Tolerance.gradient));
    return checks;
  } finally {
    images.dispose();
    labels.dispose();
    optimiser.dispose();
    model.dispose();
  }
}

/** The checks as text: one line per quantity, then a summary naming the backend and the worst error. */
export function formatChecks(checks: Check[], backendName: string): string {
  const lines = checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(44)} ${c.relError.toExponential(2)}  (tolerance ${c.tolerance})`);
  const passed = checks.filter((c) => c.ok).length;
  const worst = Math.max(...checks.map((c) => (Number.isNaN(c.relError) ? Infinity : c.relError)));
  lines.push(`${backendName}: ${passed}/${checks.length} checks within tolerance, worst relative error ${worst.toExponential(2)}`);
  return `${lines.join('\n')}\n`;
}
