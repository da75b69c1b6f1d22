#!/usr/bin/env python3
"""PyTorch's figure for the fast recipe's network (airbench94): training steps per second on
synthetic data, the peer of our own airbench step.

usage: /usr/bin/python3 src/bench/cpu/fast_torch.py [--batch 1024] [--channels 3] [--size 32]
           [--widths 64,256,256] [--steps 10] [--warmup 2] [--threads N] [--lr 11.5] [--wd 0.0153]
           [--precision fp32|bf16]
Prints one JSON line: {"median_step_seconds", "images_per_second", "peak_rss_mb", "torch", "threads"}.

The network is scripts/airbench_reference.py's AirbenchNet, its whitening weight computed from the
synthetic batch and frozen. --precision bf16 runs the forward pass under
torch.autocast('cpu', dtype=torch.bfloat16) and the loss on float32 logits, as a PyTorch user
turns mixed precision on (on an AMX CPU oneDNN then runs its avx512_core_amx_bf16 kernels);
fp32 (the default) is plain float32. Channels_last, oneDNN, torch.set_num_threads(os.cpu_count())
unless --threads. A step is what airbench's training loop does per batch: zero the gradients,
forward, label-smoothing 0.2 cross-entropy summed over the batch, backward, SGD (Nesterov,
momentum 0.85) in two groups, the BN biases at 64 times the others' learning rate. airbench's
hyperparameters are per 1024 images and decoupled from momentum: lr = LR / (1024 (1 + 1 /
(1 - momentum))), weight decay WD * batch / that same scale, each group's weight_decay divided by
its lr. Data loading, flips, translation, Lookahead and TTA are not timed. The median step after
WARMUP untimed ones.

The allocator matters as for ResNet-9 (shared/DESIGN.md §4): unless MALLOC_MMAP_MAX_ is already
set, the script re-executes itself with MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000.
Check `uptime` before and after: a run beside another heavy process is void."""
import argparse, json, os, resource, statistics, sys, time

if 'MALLOC_MMAP_MAX_' not in os.environ:  # glibc reads these at start-up only
    os.environ.update(MALLOC_MMAP_MAX_='0', MALLOC_TRIM_THRESHOLD_='100000000000')
    os.execv(sys.executable, [sys.executable] + sys.argv)

import torch
import torch.nn.functional as F

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..')
sys.path.insert(0, os.path.join(root, 'scripts'))
from airbench_reference import AirbenchNet, whitening_weights  # noqa: E402

MOMENTUM, BIAS_SCALER, LABEL_SMOOTHING = 0.85, 64, 0.2


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--batch', type=int, default=1024)
    p.add_argument('--channels', type=int, default=3)
    p.add_argument('--size', type=int, default=32)
    p.add_argument('--classes', type=int, default=10)
    p.add_argument('--widths', default='64,256,256')
    p.add_argument('--steps', type=int, default=10)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--threads', type=int, default=os.cpu_count())
    p.add_argument('--lr', type=float, default=11.5, help="airbench's learning rate per 1024 images")
    p.add_argument('--wd', type=float, default=0.0153, help="airbench's weight decay per 1024 images")
    p.add_argument('--precision', choices=['fp32', 'bf16'], default='fp32')
    a = p.parse_args()
    widths = [int(w) for w in a.widths.split(',')]
    if len(widths) != 3 or a.steps < 1:
        p.error('--widths takes three numbers and --steps at least 1')

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cl = torch.channels_last
    x = torch.randn(a.batch, a.channels, a.size, a.size)
    y = torch.randint(0, a.classes, (a.batch,))
    model = AirbenchNet(a.channels, a.classes, widths)
    with torch.no_grad():
        model.whiten.weight.copy_(whitening_weights(x))
    model = model.to(memory_format=cl).train()
    x = x.contiguous(memory_format=cl)

    kilostep_scale = 1024 * (1 + 1 / (1 - MOMENTUM))
    lr = a.lr / kilostep_scale
    wd = a.wd * a.batch / kilostep_scale
    lr_biases = lr * BIAS_SCALER
    trainable = [(k, q) for k, q in model.named_parameters() if q.requires_grad]
    norm_biases = [q for k, q in trainable if '.norm' in k]
    others = [q for k, q in trainable if '.norm' not in k]
    opt = torch.optim.SGD([dict(params=norm_biases, lr=lr_biases, weight_decay=wd / lr_biases),
                           dict(params=others, lr=lr, weight_decay=wd / lr)],
                          momentum=MOMENTUM, nesterov=True)

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=a.precision == 'bf16'):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y, label_smoothing=LABEL_SMOOTHING, reduction='sum')
        loss.backward()
        opt.step()

    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.steps):
        t = time.perf_counter(); step(); times.append(time.perf_counter() - t)
    median = statistics.median(times)
    print(json.dumps({'median_step_seconds': median, 'images_per_second': a.batch / median,
                      'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      'torch': torch.__version__, 'threads': torch.get_num_threads(), 'precision': a.precision}))


if __name__ == '__main__':
    main()
