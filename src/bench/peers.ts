/**
 * @file The peer we are measured against: PyTorch from Debian (python3-torch), run as a competent
 * user runs it (channels_last, 2 threads, the allocator settings of DESIGN.md §4), through the
 * shared reference script so that both sides train the same module.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Precision } from '../core/precision.js';

/** Debian's interpreter, not whatever python3 is first on the PATH (it may lack torch). */
export const debianPython = '/usr/bin/python3';

export function torchAvailable(): boolean {
  if (!existsSync(debianPython)) return false;
  try {
    execFileSync(debianPython, ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface TorchResult {
  train_img_s: number;
  peak_rss_mb: number;
}

/** The ResNet-9 peer; 'bf16' runs its forward pass under bf16 autocast (the script's own option). */
export function runTorchTrainStep(sharedDir: string, width: number, batchSize: number, steps: number, precision: Precision = 'fp32'): TorchResult {
  const script = join(resolve(sharedDir), 'reference', 'torch_train_step.py');
  const out = execFileSync(debianPython, [script, String(width), String(batchSize), String(steps), ...(precision === 'bf16' ? ['bf16'] : [])], {
    encoding: 'utf8',
    env: { ...process.env, MALLOC_MMAP_MAX_: '0', MALLOC_TRIM_THRESHOLD_: '100000000000' },
  });
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as TorchResult;
}
