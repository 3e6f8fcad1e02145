#!/usr/bin/env python3
"""PyTorch (eager, CPU) peer of `mcl-ref bench train`: the same CNN SimCLR step, the same shapes, the
same timing. A benchmark script, never part of the Swift package or its tests.

What is timed, as `mcl-ref bench train` times it (Sources/mcl-ref/BenchTrainCommand.swift): per step,
two augmented views of a batch of B images (translation by ±S/16 px with zero fill, contrast ±0.2 and
brightness ±0.1 on channels 0–2; ImageAugmentation.forCifarMnistLike), forward through the encoder and
head in train mode, NT-Xent (τ = 0.5) over the 2B views, backward, Adam (lr 1e-3). `--warmup` untimed
steps, then `--steps` timed ones; images/s = steps·B / (sum of the timed steps' wall times).

The model is `Sequential.cnnEncoder` + `Sequential.projectionHead` with the bench's defaults:
  encoder: Conv2d(C, 16, 3, s1, p1) BN2d ReLU, Conv2d(16, 32, 3, s2, p1) BN2d ReLU,
           Conv2d(32, 64, 3, s2, p1) BN2d ReLU, AdaptiveAvgPool2d(1), Flatten, Linear(64, R = 64)
  head:    Linear(64, 64) BN1d(64) ReLU Linear(64, 32)
with C = 5 (cifar-mnist-like: 3 natural channels + 2 digit copies), S = 16.

The images are random (the step's cost does not depend on their values); the loss at step 0 is
printed so it can be set beside ours (same formula — NT-Xent of Chen et al. 2020, mean over the 2B
anchors — not the same initial weights, so the two agree only to within a few per cent of
log(2B − 1)).
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def make_model(channels, widths, rep, head_hidden, emb):
    layers, c = [], channels
    for i, w in enumerate(widths):
        layers += [nn.Conv2d(c, w, 3, stride=1 if i == 0 else 2, padding=1), nn.BatchNorm2d(w), nn.ReLU()]
        c = w
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, rep)]
    encoder = nn.Sequential(*layers)
    head = nn.Sequential(nn.Linear(rep, head_hidden), nn.BatchNorm1d(head_hidden), nn.ReLU(), nn.Linear(head_hidden, emb))
    return nn.Sequential(encoder, head)


def augment(x, max_shift, contrast, brightness, jitter_channels, gen):
    """One view per row, as ImageAugmentation.apply: shift (dx, dy) ∈ [−s, s]² with zero fill, then
    contrast around the mean of the jittered channels and brightness on those channels."""
    n, c, h, w = x.shape
    dx = torch.randint(-max_shift, max_shift + 1, (n,), generator=gen)
    dy = torch.randint(-max_shift, max_shift + 1, (n,), generator=gen)
    cf = torch.empty(n).uniform_(1 - contrast, 1 + contrast, generator=gen)
    bf = torch.empty(n).uniform_(-brightness, brightness, generator=gen)
    padded = F.pad(x, (max_shift, max_shift, max_shift, max_shift))
    ys = (torch.arange(h)[None, :] - dy[:, None] + max_shift)  # n×H source rows in the padded image
    xs = (torch.arange(w)[None, :] - dx[:, None] + max_shift)  # n×W
    b = torch.arange(n)[:, None, None, None]
    ch = torch.arange(c)[None, :, None, None]
    out = padded[b, ch, ys[:, None, :, None], xs[:, None, None, :]]
    j = out[:, jitter_channels]
    m = j.mean(dim=(1, 2, 3), keepdim=True)
    out[:, jitter_channels] = m + (j - m) * cf[:, None, None, None] + bf[:, None, None, None]
    return out


def nt_xent(z, tau):
    """NT-Xent over 2B views: rows i and i + B are positives; mean over the 2B anchors."""
    z = F.normalize(z, dim=1)
    n = z.shape[0]
    sim = z @ z.t() / tau
    sim.fill_diagonal_(float("-inf"))
    target = torch.arange(n).roll(n // 2)
    return F.cross_entropy(sim, target)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--size", type=int, default=16)
    p.add_argument("--channels", type=int, default=5)
    p.add_argument("--conv-widths", default="16,32,64")
    p.add_argument("--rep-width", type=int, default=64)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--no-augmentation", action="store_true", help="time the step without the views")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    widths = [int(v) for v in a.conv_widths.split(",")]
    model = make_model(a.channels, widths, a.rep_width, 64, 32)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(a.batch_size, a.channels, a.size, a.size)
    shift = a.size // 16
    fixed_views = torch.cat([x, x])
    total, loss0 = 0.0, None
    for t in range(a.warmup + a.steps):
        start = time.perf_counter()
        if a.no_augmentation:
            views = fixed_views
        else:
            views = torch.cat([augment(x, shift, 0.2, 0.1, [0, 1, 2], gen), augment(x, shift, 0.2, 0.1, [0, 1, 2], gen)])
        loss = nt_xent(model(views), 0.5)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        elapsed = time.perf_counter() - start
        if t == 0:
            loss0 = loss.item()
        if t >= a.warmup:
            total += elapsed
    ips = a.steps * a.batch_size / total
    result = {"threads": a.threads, "batch_size": a.batch_size, "steps": a.steps, "images_per_second": round(ips),
              "seconds_per_step": round(total / a.steps, 4), "loss_step0": loss0,
              "log_2b_minus_1": math.log(2 * a.batch_size - 1), "torch": torch.__version__}
    if a.json:
        print(json.dumps(result))
    else:
        print(f"PyTorch {torch.__version__} eager, {a.threads} thread(s): {1e3 * total / a.steps:.1f} ms/step, "
              f"{ips:.0f} images/s; loss at step 0 {loss0:.4f} (log(2B−1) = {math.log(2 * a.batch_size - 1):.4f})")


if __name__ == "__main__":
    sys.exit(main())
