"""Reference airbench94 network in PyTorch, the interop contract for its checkpoints.

Written from the description in Keller Jordan's "94% on CIFAR-10 in 3.29 Seconds on a Single GPU"
(arXiv 2404.00498). The TypeScript project must be able to load and save weights under exactly
these state_dict names and PyTorch layouts (conv weights OIHW, linear weights [out, in]).

Layout (widths w0, w1, w2; (64, 256, 256) is airbench94; C input channels, k = 2):
  whiten  conv kxk (C -> 2kkC, no padding, bias), weight frozen (whitening_weights), then GELU
  group1  conv3x3(2kkC -> w0) maxpool2 bn gelu, conv3x3(w0 -> w0) bn gelu
  group2  conv3x3(w0 -> w1)   maxpool2 bn gelu, conv3x3(w1 -> w1) bn gelu
  group3  conv3x3(w1 -> w2)   maxpool2 bn gelu, conv3x3(w2 -> w2) bn gelu
  global max pool, classifier linear(w2 -> classes, no bias), logits * 1/9
3x3 convs have padding 1 and no bias; pools are 2x2 stride 2 (floor). GELU is the exact (erf) one.
BN eps 1e-12, momentum 0.4 (PyTorch's convention; airbench writes 0.6 in its own "1 - momentum"
one), weight frozen at 1, bias trained. Spatial sizes: 32 -> 31 -> 15 -> 7 -> 3 for CIFAR, and
28 -> 27 -> 13 -> 6 -> 3 for MNIST, so the global max pool is airbench's MaxPool2d(3) on both.
Init: PyTorch's defaults, then each 3x3 conv's first in_channels filters set to the identity
(dirac), as airbench does. Frozen tensors are still parameters (requires_grad False), so that
they stay in the state_dict under their names.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

BN_EPS, BN_MOMENTUM, LOGIT_SCALE = 1e-12, 0.4, 1 / 9


def conv3x3(c_in, c_out):
    conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
    with torch.no_grad():  # identity on the first c_in outputs (all of them when c_out == c_in)
        nn.init.dirac_(conv.weight[:conv.weight.size(1)])
    return conv


def batch_norm(c):
    bn = nn.BatchNorm2d(c, eps=BN_EPS, momentum=BN_MOMENTUM)
    bn.weight.requires_grad_(False)  # stays at 1
    return bn


class ConvGroup(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        # Defined in this order so that named_parameters() lists conv1, norm1, conv2, norm2.
        self.conv1 = conv3x3(c_in, c_out)
        self.norm1 = batch_norm(c_out)
        self.conv2 = conv3x3(c_out, c_out)
        self.norm2 = batch_norm(c_out)

    def forward(self, x):
        x = F.gelu(self.norm1(F.max_pool2d(self.conv1(x), 2)))
        return F.gelu(self.norm2(self.conv2(x)))


class AirbenchNet(nn.Module):
    def __init__(self, in_channels=3, classes=10, widths=(64, 256, 256), whiten_kernel=2):
        super().__init__()
        k = whiten_kernel
        whiten_width = 2 * k * k * in_channels
        self.whiten = nn.Conv2d(in_channels, whiten_width, k, padding=0, bias=True)
        self.whiten.weight.requires_grad_(False)  # set by whitening_weights; only the bias trains
        self.group1 = ConvGroup(whiten_width, widths[0])
        self.group2 = ConvGroup(widths[0], widths[1])
        self.group3 = ConvGroup(widths[1], widths[2])
        self.classifier = nn.Linear(widths[2], classes, bias=False)
        self.scale = LOGIT_SCALE

    def features(self, x):
        """The output of group3 (after its last GELU, before the pool): Grad-CAM's target layer."""
        x = F.gelu(self.whiten(x))
        return self.group3(self.group2(self.group1(x)))

    def head(self, f):
        f = torch.amax(f, dim=(2, 3))
        return self.classifier(f) * self.scale

    def forward(self, x):
        return self.head(self.features(x))


def whitening_weights(images_nchw, k=2, eps=5e-4):
    """The whitening conv's weight [2kkC, C, k, k] from (already normalised) NCHW images.

    Mirrors src/nn/whitening.ts: the second-moment matrix E[p p^T] (not the covariance) of every
    k x k patch, stride 1, inside the image; its eigenvectors, largest eigenvalue first, each
    scaled by 1 / sqrt(max(eigenvalue, 0) + eps); then their negations: output channel j < kkC is
    eigenvector j, channel kkC + j its negation. Patches are flattened here in OIHW's (c, ky, kx)
    order; whitening.ts flattens them in (ky, kx, c) and stores HWIO [k][k][c][2kkC], the same
    filters in another layout. Computed in float64, returned in the images' dtype.

    Each eigenvector's sign is arbitrary (eigh here, cyclic Jacobi there), and a flipped sign swaps
    output channels j and kkC + j, so the two implementations agree up to that swap (and up to the
    choice of basis inside an eigenspace of repeated eigenvalues). A checkpoint carries the weight.
    """
    c = images_nchw.size(1)
    d = k * k * c
    patches = F.unfold(images_nchw.double(), k)  # [n, c*k*k, positions], rows in (c, ky, kx) order
    patches = patches.transpose(1, 2).reshape(-1, d)
    moments = patches.t() @ patches / patches.size(0)
    values, vectors = torch.linalg.eigh(moments)  # ascending; eigenvectors in columns
    values, vectors = values.flip(0), vectors.flip(1)
    filters = (vectors / torch.sqrt(values.clamp(min=0) + eps)).t()  # row j: eigenvector j, scaled
    filters = filters.reshape(d, c, k, k)
    return torch.cat((filters, -filters)).to(images_nchw.dtype)
