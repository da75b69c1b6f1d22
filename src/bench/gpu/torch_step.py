#!/usr/bin/env python3
"""The PyTorch peer of gpu.sh: DavidNet's training step timed as a competent PyTorch user runs it.

usage: python3 torch_step.py WIDTH BATCH STEPS SIZE CHANNELS [--device cuda|cpu] [--variants a,b,...]

Synthetic SIZExSIZE images with CHANNELS channels, ten classes, channels_last, SGD Nesterov with
weight decay, label smoothing 0.2: the same step as `kilosecond bench engine`. Each variant is
timed over STEPS steps after its warm-up (three steps; torch.compile's first compiles), median.
  fp32          eager float32 with PyTorch's defaults (on NVIDIA cuDNN convolutions use TF32)
  fp32-strict   eager float32 with TF32 off: the arithmetic kilosecond's float32 kernels do
  bf16          eager, bf16 autocast
  compile-bf16  torch.compile of the bf16 step, where this torch has it
Prints one JSON line: {"device", "torch", "width", "batch_size", "image", "variants":
{name: {"median_step_s", "train_img_s"} or {"error"}}}. A variant that fails is an "error", not a crash.

The ResNet-9 module is shared/reference/resnet9_reference.py: found in the folder named by
KILOSECOND_REFERENCE, beside the checkout (../shared/reference), or in .carry/reference, where
scripts/device-bundle.sh puts it for a GPU machine.
"""
import json, os, statistics, sys, time

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.join(here, '..', '..', '..')
for folder in (os.environ.get('KILOSECOND_REFERENCE'), os.path.join(repo, '..', 'shared', 'reference'), os.path.join(repo, '.carry', 'reference')):
    if folder and os.path.exists(os.path.join(folder, 'resnet9_reference.py')):
        sys.path.insert(0, folder)
        break
else:
    sys.exit('torch_step.py: resnet9_reference.py not found: set KILOSECOND_REFERENCE to the folder holding it (shared/reference)')

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from resnet9_reference import ResNet9  # noqa: E402

ALL_VARIANTS = ['fp32', 'fp32-strict', 'bf16', 'compile-bf16']


def parse(argv):
    args, device, variants = list(argv), 'cuda', ALL_VARIANTS
    for flag in ('--device', '--variants'):
        if flag in args:
            i = args.index(flag)
            if i + 1 >= len(args):
                sys.exit(f'{flag} needs a value\n\n{__doc__}')
            value = args[i + 1]
            del args[i:i + 2]
            if flag == '--device':
                device = value
            else:
                variants = value.split(',')
    unknown = [v for v in variants if v not in ALL_VARIANTS]
    if len(args) != 5 or unknown or device not in ('cuda', 'cpu'):
        sys.exit(f'unknown variant(s) {", ".join(unknown)}\n\n{__doc__}' if unknown else __doc__)
    return [int(a) for a in args], device, variants


def time_variant(name, width, batch, steps, size, channels, device):
    torch.manual_seed(0)
    model = ResNet9(channels, 10, width).to(device).to(memory_format=torch.channels_last).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
    x = torch.randn(batch, channels, size, size, device=device).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch,), device=device)
    bf16 = name in ('bf16', 'compile-bf16')

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x), y, label_smoothing=0.2)
        loss.backward()
        opt.step()

    if name == 'compile-bf16':
        if not hasattr(torch, 'compile'):
            raise RuntimeError(f'torch.compile is not in torch {torch.__version__}')
        step = torch.compile(step)
    sync = torch.cuda.synchronize if device == 'cuda' else (lambda: None)
    for _ in range(3):
        step()
    sync()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return {'median_step_s': median, 'train_img_s': batch / median}


def main():
    (width, batch, steps, size, channels), device, variants = parse(sys.argv[1:])
    if device == 'cuda' and not torch.cuda.is_available():
        sys.exit('torch_step.py: this torch sees no CUDA device (pass --device cpu to time the CPU)')
    if device == 'cuda':
        torch.backends.cudnn.benchmark = True
    results = {}
    for name in variants:
        if device == 'cuda':
            # PyTorch's defaults, but for fp32-strict: TF32 in cuDNN convolutions on, in matmuls off.
            torch.backends.cudnn.allow_tf32 = name != 'fp32-strict'
            torch.backends.cuda.matmul.allow_tf32 = False
        try:
            results[name] = time_variant(name, width, batch, steps, size, channels, device)
        except Exception as err:  # one variant failing (no compiler, out of memory) leaves the others
            results[name] = {'error': f'{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ""}'}
    name = torch.cuda.get_device_name() if device == 'cuda' else 'cpu'
    print(json.dumps({'device': name, 'torch': torch.__version__, 'width': width, 'batch_size': batch,
                      'image': [size, size, channels], 'variants': results}))


if __name__ == '__main__':
    main()
