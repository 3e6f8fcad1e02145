#!/usr/bin/env python3
"""Median time of one SimCLR step of `mcl-ref bench mlp`'s model in PyTorch eager (CPU, float32).

Encoder Linear-BN-ReLU-Linear, head Linear-BN-ReLU-Linear, NT-Xent (τ 0.5) over the 2B views,
backward, Adam (lr 1e-3). With --init DIR (written by `mcl-ref bench mlp --export DIR`) the weights
and views are mcl-ref's, and "loss_step0" is the loss of the first step on exactly mcl-ref's data;
without it they are drawn here. Timing as mcl-ref's: one warm-up call calibrates a batch of calls
lasting >= 2 ms, then the median of --repeats such batches. A benchmark, not a test.

    /work/venv-torch/bin/python scripts/bench_step_torch.py --batch-size 256 --threads 1 --json
"""
import json, os
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from bench_timing import median_seconds_per_call, parse_step_arguments

a = parse_step_arguments(__doc__)
torch.set_num_threads(a.threads)
torch.manual_seed(0)

mlp = lambda i, h, o: nn.Sequential(nn.Linear(i, h), nn.BatchNorm1d(h), nn.ReLU(), nn.Linear(h, o))
model = nn.ModuleDict({"encoder": mlp(a.input_width, a.hidden, a.rep_width),
                       "head": mlp(a.rep_width, a.head_hidden, a.embedding)})
views = torch.randn(2 * a.batch_size, a.input_width)
if a.init:  # mcl-ref's parameters (same names as our state dict) and views
    with torch.no_grad():
        for name, t in model.named_parameters():
            t.copy_(torch.from_numpy(np.load(os.path.join(a.init, name + ".npy")).reshape(t.shape)))
    views = torch.from_numpy(np.load(os.path.join(a.init, "views.npy")))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
n, b = views.shape[0], a.batch_size
positives = torch.cat([torch.arange(b, n), torch.arange(0, b)])
self_mask = torch.eye(n, dtype=torch.bool)


def step():
    z = model["head"](model["encoder"](views))
    u = F.normalize(z, dim=1)
    logits = (u @ u.T / 0.5).masked_fill(self_mask, float("-inf"))  # NT-Xent: row i's own column out
    loss = F.cross_entropy(logits, positives)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.detach()


loss0 = float(step())
ms = median_seconds_per_call(step, a.repeats) * 1e3
out = {"batch_size": b, "threads": a.threads, "ms_per_step": round(ms, 3), "loss_step0": loss0,
       "torch": torch.__version__}
print(json.dumps({"train_step": out}) if a.json else f"PyTorch eager B={b}, {a.threads} threads: {ms:.3f} ms/step")
