#!/usr/bin/env python3
"""One MCL stage trained with DistributedDataParallel on 2 processes (gloo, localhost), checked step by
step against ``mcl-ref trace --world-size 2`` of the same stage.

    mcl-ref trace --world-size 2 --sampler cluster-batch --first-steps 8 ... --out TRACE
    python3 Examples/torch/ddp_stage.py TRACE --stage 1 [--steps 8] [--json]

Each of the W = trace.json's ``world_size`` processes (``torch.multiprocessing.spawn``, gloo on this
machine, rendezvous through a FileStore):

* builds the encoder + projection head of the trace's configuration (models.py), loads
  ``stage<j>/initial_state`` with ``load_state_dict(strict=True)`` and wraps it in
  ``DistributedDataParallel`` (broadcast_buffers=True, the default: rank 0's BatchNorm buffers are
  copied to every rank before each forward);
* draws its batches from ``ClusterBatchSampler(pseudo labels of stage j, b, seed, num_replicas=W,
  rank=r)`` — the sampler seed is the one mcl-ref's stage trainer draws (``stage_sampler_seed``) —
  and requires them to equal ``steps/<s>/rank<r>/batch.npy`` exactly;
* runs each step on that rank's views (``rank<r>/views.npy``: the augmentation is mcl-ref's own
  seeded generator, so the views are taken from the trace rather than re-drawn): forward in train
  mode, NT-Xent (masked by ``rank<r>/mask_labels.npy`` when present) = mean over the rank's own
  batch, ``loss.backward()`` — DDP all-reduces the gradients to their mean over ranks —, the
  optimiser of the configuration at the step's ``lr``. No state is reset from the trace after step 0:
  this is a free-running training loop, compared after every step.

What the gradient all-reduce changes: every rank's loss is a mean over its *own* b samples, with its own
BatchNorm statistics and only its own 2b − 1 other views in the NT-Xent denominator; DDP averages
the gradients, so the update follows the gradient of (1/W)·Σ_r L_r — not of the loss of the union
batch of W·b samples (a different objective: other negatives, other BatchNorm statistics).
``loss.npy`` of a step is that mean, ``rank<r>/loss.npy`` each rank's own loss.

Compared at every step s < --steps (tolerances; float32 on both sides, max over elements of
|torch − trace| ≤ atol + rtol·|trace|):

* batch indices, each rank: exact;
* each rank's loss and the all-reduced mean loss: atol 1e-5, rtol 1e-5 (f32 NT-Xent; the fixture's
  f32 loss tolerance is 2e-6/τ … 1e-5);
* all-reduced gradients: atol 1e-4·max|g|, rtol 1e-3 (as Examples/replay_trace.py: BatchNorm's
  backward cancels);
* parameters after the step: atol 2e-5, rtol 1e-5 (as a single replayed step in replay_trace.py: the
  loop is free-running, but over a few steps float32 differences stay ≈ 1e-7); the Linear biases
  that reach a BatchNorm through Linear layers only (encoder.0, encoder.3, head.0 of the MLP) have an
  analytically zero gradient, which Adam normalises to a move of up to ±lr in either direction, so
  two correct runs drift apart there by up to 2.5·lr per step: atol 2.5·lr·(s + 1);
* BatchNorm buffers after the step, rank 0 (what DDP broadcasts): atol 2e-5, rtol 1e-5; a
  running_mean also inherits the drift of the biases in front of it (its batch means shift by it,
  carried through the Linear layers between with their ‖W‖∞), which is added to its atol.

``--broken`` leaves the gradient all-reduce out (``DistributedDataParallel.no_sync``: each rank
applies its own gradient, a classic slip): the gradients and parameters then fail (exit 1).

Rendezvous is a FileStore in a fresh temporary directory (``init_method="file://…"``), not a TCP port
picked in advance: no window in which another program can take the port. Each worker enables
``faulthandler``, so a worker killed by a signal (e.g. SIGABRT from a C++ ``std::terminate`` in gloo)
prints every thread's Python stack, tagged with its rank, on stderr. Rank 0 writes the gathered
results atomically and then all ranks meet at a barrier before ``destroy_process_group``: a crash in
torch.distributed's teardown after that point cannot change the verdict, and is reported as such
(stderr) while the verdict stands.

Exit 0 when all agree, 1 when something differs, 2 for an unusable trace (one line naming it), 3 when
a worker process died or raised before the results were gathered (no verdict; its stderr is above).
"""
import argparse
import faulthandler
import json
import os
import sys
import tempfile

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel as DDP

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_batch_sampler import ClusterBatchSampler, stage_sampler_seed  # noqa: E402
from fixtures_backend import ntxent_loss  # noqa: E402
from models import contrastive_model  # noqa: E402

TOL = {"loss": (1e-5, 1e-5), "grad": (1e-4, 1e-3), "param": (2e-5, 1e-5), "buffer": (2e-5, 1e-5)}


class TraceError(Exception):
    pass


def load_trace(path, stage):
    try:
        with open(os.path.join(path, "trace.json")) as f:
            t = json.load(f)
    except (OSError, ValueError) as e:
        raise TraceError(f"{path}/trace.json: {e}")
    cfg = t["configuration"]
    if t.get("world_size", 1) < 2:
        raise TraceError(f"{path}/trace.json: world_size {t.get('world_size', 1)}; record it with trace --world-size 2")
    if cfg.get("method", "simclr") != "simclr" or cfg.get("encoder", "mlp") != "mlp":
        raise TraceError(f"{path}/trace.json: only SimCLR traces of the MLP encoder are replayed under DDP")
    if stage >= len(t["stages"]):
        raise TraceError(f"{path}/trace.json: no stage {stage}")
    if stage > 0 and cfg["sampler"] != "cluster-batch":
        raise TraceError(f"{path}/trace.json: sampler {cfg['sampler']}; this replays --sampler cluster-batch")
    return t


def flat_modules(model):
    return [(f"{net}.{i}", m) for net in ("encoder", "head") for i, m in enumerate(getattr(model, net))]


def pre_bn_biases(model):
    """Biases whose output reaches a BatchNorm through Linear layers only: their gradient is 0
    analytically (the batch mean removes them), so both sides hold rounding noise there."""
    flat, out = flat_modules(model), []
    for i, (name, m) in enumerate(flat):
        if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)):
            for _, nxt in flat[i + 1:]:
                if isinstance(nxt, torch.nn.Linear):
                    continue
                if isinstance(nxt, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                    out.append(name + ".bias")
                break
    return out


def running_mean_allowance(model, zero, bound):
    """How far each BatchNorm's running_mean may move when every bias in ``zero`` may differ by
    ``bound``: its batch mean shifts by the bias difference carried through the Linear layers
    between (‖W‖∞ each), and the running mean is a convex combination of batch means."""
    allow, drift = {}, 0.0
    for name, m in flat_modules(model):
        if isinstance(m, torch.nn.Linear):
            w = m.weight.detach().abs().sum(1).max().item()
            drift = drift * w + (bound if name + ".bias" in zero else 0.0)
        elif isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            allow[name + ".running_mean"], drift = drift, 0.0
        else:
            drift = 0.0
    return allow


def deviation(a, e, atol, rtol):
    """(max |a − e|, how far over its allowance: max(|a − e| − atol − rtol·|e|), ≤ 0 passes)."""
    a, e = np.asarray(a, np.float64), np.asarray(e, np.float64)
    d = np.abs(a - e)
    return float(d.max()), float((d - atol - rtol * np.abs(e)).max())


def worker(rank, world, store_path, trace_dir, t, stage, steps, result_path, broken=False):
    faulthandler.enable(all_threads=True)    # a fatal signal prints every thread's Python stack
    print(f"ddp_stage.py: rank {rank} is pid {os.getpid()}", file=sys.stderr, flush=True)
    torch.set_num_threads(1)                 # before gloo starts its threads: 2 ranks on a shared machine
    dist.init_process_group("gloo", init_method="file://" + store_path, rank=rank, world_size=world)
    torch.manual_seed(0)
    cfg = t["configuration"]
    sdir = os.path.join(trace_dir, f"stage{stage}")
    d = int(np.prod(t["sample_shape"]))
    model = contrastive_model(d, cfg["encoder_hidden"], cfg["representation_width"], cfg["head_hidden"],
                              cfg["embedding_width"], cfg["batch_norm"])
    state = {k: torch.from_numpy(np.load(os.path.join(sdir, "initial_state", k + ".npy"))) for k in model.state_dict()}
    model.load_state_dict(state, strict=True)
    model.train()
    ddp = DDP(model)                         # CPU, gloo; broadcast_buffers=True
    kind, lr, wd = cfg["optimizer"], cfg["lr"], cfg["weight_decay"]
    if kind == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=wd)
    elif kind == "adamw":
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=wd)
    labels = np.load(os.path.join(sdir, "pseudo_labels.npy"))
    sampler = ClusterBatchSampler(labels, cfg["batch_size"], stage_sampler_seed(int(t["seed"]), stage),
                                  num_replicas=world, rank=rank)
    recorded = {s["step"]: s for s in t["stages"][stage]["recorded_steps"]}
    zero_grad_biases = pre_bn_biases(model)
    worst = {}                               # family → (max abs, max over allowance)
    failures = []

    def note(family, what, a, e, atol, rtol):
        m, over = deviation(a, e, atol, rtol)
        pm, po = worst.get(family, (0.0, -np.inf))
        worst[family] = (max(pm, m), max(po, over))
        if over > 0:
            failures.append(f"rank {rank} {what}: max |Δ| {m:.3g} exceeds atol {atol:.3g} + rtol {rtol:g}·|ref|")

    s, epoch, max_lr = 0, 0, 0.0
    while s < steps:
        sampler.set_epoch(epoch)
        for batch in sampler:
            if s >= steps:
                break
            if s not in recorded:
                raise TraceError(f"{trace_dir}: step {s} of stage {stage} is not recorded (trace with --first-steps {steps})")
            step_dir = os.path.join(trace_dir, recorded[s]["dir"])
            rdir = os.path.join(step_dir, f"rank{rank}")
            expected_batch = np.load(os.path.join(rdir, "batch.npy"))
            if list(expected_batch) != list(batch):
                failures.append(f"rank {rank} step {s}: batch {batch} != trace {list(expected_batch)}")
            worst["batches_checked"] = (worst.get("batches_checked", (0, 0))[0] + 1, 0)
            views = torch.from_numpy(np.load(os.path.join(rdir, "views.npy")))
            mask_f = os.path.join(rdir, "mask_labels.npy")
            mask = np.load(mask_f) if os.path.exists(mask_f) else None
            for g in opt.param_groups:
                g["lr"] = recorded[s]["lr"]
            opt.zero_grad()
            if broken:
                with ddp.no_sync():          # bug on purpose: no all-reduce, each rank keeps its own gradient
                    loss, _ = ntxent_loss(ddp(views), cfg["temperature"], mask)
                    loss.backward()
            else:
                loss, _ = ntxent_loss(ddp(views), cfg["temperature"], mask)
                loss.backward()              # DDP: gradients all-reduced to their mean over ranks
            note("rank_loss", f"step {s} loss", loss.item(), np.load(os.path.join(rdir, "loss.npy")), *TOL["loss"])
            mean = loss.detach().clone()
            dist.all_reduce(mean)
            mean /= world
            note("mean_loss", f"step {s} mean loss", mean.item(), np.load(os.path.join(step_dir, "loss.npy")), *TOL["loss"])
            grads = {n: np.load(os.path.join(step_dir, "grad", n + ".npy")) for n, _ in model.named_parameters()}
            scale = max(np.abs(g).max() for g in grads.values())
            for name, p in model.named_parameters():
                fam = "grad_pre_bn_bias" if name in zero_grad_biases else "grad"
                note(fam, f"step {s} grad {name}", p.grad.numpy(), grads[name], TOL["grad"][0] * scale, TOL["grad"][1])
            opt.step()
            max_lr = max(max_lr, recorded[s]["lr"])
            bound = 2.5 * max_lr * (s + 1)   # how far two correct runs' pre-BN biases may have drifted apart
            mean_allow = running_mean_allowance(model, zero_grad_biases, bound)
            for name, v in model.state_dict().items():
                e = np.load(os.path.join(step_dir, "state_after", name + ".npy"))
                if name in grads:
                    atol = bound if name in zero_grad_biases else TOL["param"][0]
                    fam = "param_pre_bn_bias" if name in zero_grad_biases else "param"
                    note(fam, f"step {s} {name} after", v.numpy(), e, atol, TOL["param"][1])
                elif rank == 0:              # rank 0's buffers are the model's (broadcast by DDP)
                    fam = "running_mean" if name in mean_allow else "buffer"
                    note(fam, f"step {s} {name} after", v.numpy(), e,
                         TOL["buffer"][0] + mean_allow.get(name, 0.0), TOL["buffer"][1])
            s += 1
        epoch += 1
    gathered = [None] * world
    dist.all_gather_object(gathered, {"rank": rank, "worst": worst, "failures": failures})
    if rank == 0:                            # atomically: a reader sees all of it or nothing
        with open(result_path + ".part", "w") as f:
            json.dump(gathered, f)
        os.replace(result_path + ".part", result_path)
    dist.barrier()                           # nobody tears down before the results are on disk
    dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trace")
    ap.add_argument("--stage", type=int, default=1)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--broken", action="store_true", help="leave the gradient all-reduce out (must fail)")
    a = ap.parse_args()
    try:
        t = load_trace(a.trace, a.stage)
    except TraceError as e:
        print(f"ddp_stage.py: {e}", file=sys.stderr)
        sys.exit(2)
    recorded = {s["step"] for s in t["stages"][a.stage]["recorded_steps"]}
    if not set(range(a.steps)) <= recorded:
        print(f"ddp_stage.py: {a.trace}: steps 0..{a.steps - 1} of stage {a.stage} are not all recorded "
              f"(trace with --first-steps {a.steps})", file=sys.stderr)
        sys.exit(2)
    world = t["world_size"]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.json")
        try:
            mp.spawn(worker, args=(world, os.path.join(tmp, "store"), a.trace, t, a.stage, a.steps, out, a.broken),
                     nprocs=world, join=True)
        except mp.ProcessRaisedException as e:
            print(f"ddp_stage.py: a worker raised (traceback above):\n{e}", file=sys.stderr)
            sys.exit(2 if "TraceError" in str(e) else 3)
        except mp.ProcessExitedException as e:
            how = f"signal {e.signal_name}" if e.signal_name else f"exit code {e.exit_code}"
            if not os.path.exists(out):
                print(f"ddp_stage.py: rank {e.error_index} terminated with {how} before the results "
                      f"were gathered; no verdict (its stderr, with faulthandler's stacks, is above)", file=sys.stderr)
                sys.exit(3)
            print(f"ddp_stage.py: warning: rank {e.error_index} terminated with {how} in "
                  f"torch.distributed's teardown, after every rank's results were gathered and written; "
                  f"the verdict below stands (stderr above)", file=sys.stderr)
        with open(out) as f:
            ranks = json.load(f)
    failures = [x for r in ranks for x in r["failures"]]
    summary = {"trace": a.trace, "stage": a.stage, "steps": a.steps, "world_size": world, "passed": not failures,
               "failures": failures[:20],
               "worst": {f"rank{r['rank']}": {k: {"max_abs": v[0], "max_over_allowance": v[1]} for k, v in r["worst"].items()}
                         for r in ranks}}
    if a.json:
        print(json.dumps(summary, indent=1))
    else:
        for line in failures[:20]:
            print("FAIL", line)
        for r in ranks:
            parts = [f"{k} {v[0]:.3g}" for k, v in sorted(r["worst"].items()) if k != "batches_checked"]
            print(f"rank {r['rank']}: {r['worst'].get('batches_checked', (0,))[0]} batches exact; max |Δ|: " + ", ".join(parts))
        print(f"{'OK' if not failures else 'FAIL'} DDP stage {a.stage}, {a.steps} steps on {world} ranks vs {a.trace}")
    sys.exit(0 if not failures else 1)


if __name__ == "__main__":
    main()
