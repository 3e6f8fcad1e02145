#!/usr/bin/env python3
"""Median time of one SimCLR step of `mcl-ref bench mlp`'s model in JAX (jit, CPU, float32).

The same step as scripts/bench_step_torch.py — encoder Linear-BN-ReLU-Linear, head
Linear-BN-ReLU-Linear (train-mode BatchNorm with running statistics), NT-Xent (τ 0.5) over the 2B
views, gradients, Adam (lr 1e-3, torch.optim.Adam's formula) — as one jitted function. With
--init DIR (from `mcl-ref bench mlp --export DIR`) the weights and views are mcl-ref's and
"loss_step0" is the loss of the first step on mcl-ref's data. Threads: XLA's CPU backend has no
thread-count call, so --threads 1 sets XLA_FLAGS=--xla_cpu_multi_thread_eigen=false
intra_op_parallelism_threads=1 and the caller should also pin the process (bench_step.sh uses
`taskset -c 0`, or `-c 0,1` for 2). Timing as mcl-ref's (warm-up + calibrated batches, median of
--repeats); the first call (compilation) is not timed. Install: python3 -m venv /work/venv-jax &&
/work/venv-jax/bin/pip install jax. A benchmark, not a test.
"""
import json, os

from bench_timing import median_seconds_per_call, parse_step_arguments

a = parse_step_arguments(__doc__)
if a.threads == 1:
    os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
import numpy as np  # noqa: E402  (after XLA_FLAGS)
import jax, jax.numpy as jnp  # noqa: E402

rng = np.random.default_rng(0)
def linear(i, o):  # PyTorch's default init distribution
    bound = 1 / np.sqrt(i)
    return {"weight": rng.uniform(-bound, bound, (o, i)), "bias": rng.uniform(-bound, bound, o)}
def mlp(i, h, o):
    return {"0": linear(i, h), "1": {"weight": np.ones(h), "bias": np.zeros(h)}, "3": linear(h, o)}
params = {"encoder": mlp(a.input_width, a.hidden, a.rep_width), "head": mlp(a.rep_width, a.head_hidden, a.embedding)}
views = rng.standard_normal((2 * a.batch_size, a.input_width))
if a.init:  # mcl-ref's parameters (file names are our state-dict names) and views
    params = {net: {layer: {f: np.load(os.path.join(a.init, f"{net}.{layer}.{f}.npy")).reshape(v.shape)
                            for f, v in fields.items()} for layer, fields in layers.items()}
              for net, layers in params.items()}
    views = np.load(os.path.join(a.init, "views.npy"))
params = jax.tree.map(lambda x: jnp.asarray(x, jnp.float32), params)
views = jnp.asarray(views, jnp.float32)
running = {net: {"mean": jnp.zeros(params[net]["1"]["weight"].shape), "var": jnp.ones(params[net]["1"]["weight"].shape)}
           for net in params}
n, b = views.shape[0], a.batch_size
positives = jnp.concatenate([jnp.arange(b, n), jnp.arange(0, b)])


def net_forward(q, x):  # Linear-BN(train)-ReLU-Linear; returns output and the batch statistics
    h = x @ q["0"]["weight"].T + q["0"]["bias"]
    mean, var = h.mean(0), h.var(0)
    h = (h - mean) / jnp.sqrt(var + 1e-5) * q["1"]["weight"] + q["1"]["bias"]
    return jax.nn.relu(h) @ q["3"]["weight"].T + q["3"]["bias"], (mean, var)


def loss_fn(params, x):
    h, s_enc = net_forward(params["encoder"], x)
    z, s_head = net_forward(params["head"], h)
    u = z / jnp.maximum(jnp.linalg.norm(z, axis=1, keepdims=True), 1e-12)
    logits = jnp.where(jnp.eye(n, dtype=bool), -jnp.inf, u @ u.T / 0.5)   # NT-Xent
    loss = jnp.mean(jax.nn.logsumexp(logits, axis=1) - logits[jnp.arange(n), positives])
    return loss, {"encoder": s_enc, "head": s_head}


@jax.jit
def step(params, m, v, t, running):
    (loss, stats), g = jax.value_and_grad(loss_fn, has_aux=True)(params, views)
    t = t + 1
    m = jax.tree.map(lambda m, g: 0.9 * m + 0.1 * g, m, g)
    v = jax.tree.map(lambda v, g: 0.999 * v + 0.001 * g * g, v, g)
    bc1, bc2 = 1 - 0.9 ** t, 1 - 0.999 ** t
    params = jax.tree.map(lambda p, m, v: p - (1e-3 / bc1) * m / (jnp.sqrt(v) / jnp.sqrt(bc2) + 1e-8), params, m, v)
    running = {k: {"mean": 0.9 * r["mean"] + 0.1 * stats[k][0], "var": 0.9 * r["var"] + 0.1 * stats[k][1] * n / (n - 1)}
               for k, r in running.items()}
    return params, m, v, t, running, loss


zeros = jax.tree.map(jnp.zeros_like, params)
state = [params, zeros, zeros, jnp.float32(0), running]
def call():
    *state[:], loss = step(*state)   # state ← the updated (params, m, v, t, running)
    jax.block_until_ready(state[0])
    return loss
loss0 = float(call())
ms = median_seconds_per_call(call, a.repeats) * 1e3
out = {"batch_size": b, "threads": a.threads, "ms_per_step": round(ms, 3), "loss_step0": loss0, "jax": jax.__version__}
print(json.dumps({"train_step": out}) if a.json else f"JAX jit B={b}, {a.threads} threads: {ms:.3f} ms/step")
