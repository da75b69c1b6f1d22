#!/usr/bin/env python3
"""PyTorch's figure for every DavidNet (width 64, 32x32) convolution: forward, backward data and
backward filter in GFLOP/s, the same table as the native bench (conv.ts beside this file).

usage: MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 /usr/bin/python3 src/bench/cpu/conv_torch.py [BATCH] [REPS] [THREADS] [wall|cpu] [float32|bfloat16] [davidnet|airbench]
Channels_last, oneDNN, 2 threads by default, best of REPS after one warm-up. bfloat16 times the
convolutions as autocast runs them (bf16 operands and outputs; on an AMX CPU oneDNN's
avx512_core_amx_bf16 kernels), so it is also the figure of oneDNN itself on these layers. Check
`uptime` before and after: a run beside another heavy process is void. The cpu clock (process
CPU time) with 1 thread measures what one free core would do even on a busy machine."""
import json, os, subprocess, sys, time
import torch


def bench_layers(net):
    """The layers of the native bench, from src/bench/layers.ts (built into dist/ by `npm run build`),
    so that the architecture is written down once."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..')
    return json.loads(subprocess.check_output(['node', os.path.join(root, 'dist', 'bench', 'layers.js'), net]))


def best_time(f, reps, clock):
    f()
    best = float('inf')
    for _ in range(reps):
        t = clock(); f(); best = min(best, clock() - t)
    return best


def main():
    batch = int(sys.argv[1]) if len(sys.argv) > 1 else 128
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    clock_name = sys.argv[4] if len(sys.argv) > 4 else 'wall'
    dtype = getattr(torch, sys.argv[5]) if len(sys.argv) > 5 else torch.float32
    clock = time.process_time if clock_name == 'cpu' else time.perf_counter
    torch.set_num_threads(threads)
    cl = torch.channels_last
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, batch {batch}, {dtype}, best of {reps}, {clock_name} clock')
    print('layer'.ljust(12) + ''.join(f'{p} GFLOP/s'.rjust(24) for p in ('forward', 'backwardData', 'backwardFilter')))
    step_s, step_flops = 0.0, 0.0
    with torch.no_grad():
        for layer in bench_layers(sys.argv[6] if len(sys.argv) > 6 else 'davidnet'):
            name, count, h, cin, cout = (layer[k] for k in ('name', 'count', 'h', 'cin', 'cout'))
            x = torch.randn(batch, cin, h, h).to(dtype).contiguous(memory_format=cl)
            w = torch.randn(cout, cin, 3, 3).to(dtype).contiguous(memory_format=cl)
            gy = torch.randn(batch, cout, h, h).to(dtype).contiguous(memory_format=cl)
            def backward(mask):
                return torch.ops.aten.convolution_backward(gy, x, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1, mask)
            runs = [lambda: torch.nn.functional.conv2d(x, w, padding=1),
                    lambda: backward([True, False, False]),
                    lambda: backward([False, True, False])]
            flops = 2 * batch * h * h * 9 * cin * cout
            cells = []
            for run in runs:
                t = best_time(run, reps, clock)
                step_s += t * count
                step_flops += flops * count
                cells.append(f'{flops / t / 1e9:.1f} ({t * 1e3:.1f} ms)'.rjust(24))
            print(name.ljust(12) + ''.join(cells))
    print(f'all convs of one training step: {step_s * 1e3:.0f} ms, {step_flops / step_s / 1e9:.1f} GFLOP/s, '
          f'{batch / step_s:.1f} images/s if convs were all')


if __name__ == '__main__':
    main()
