#!/usr/bin/env python3
"""SparseHead's Table 1 in small: SimCLR / BYOL / Barlow Twins on a built-in data set, each with and
without --sparse-head, seeds 0-2, one stage (mcl-ref train --stages 1 --json). Standard library only.

    swift build -c release
    python3 scripts/sparsehead_experiment.py [--binary .build/release/mcl-ref] [--lambda 1e-4] [-- extra train args]

Prints a Markdown table: mean ± sd over seeds of the linear probe and 5-NN accuracy per feature, the
active head columns (of the head's last Linear), the effective rank of the test representations and
the min-max distance ratio (Eq. 9) of the raw test embeddings over distinct rows (StageAnalysis.swift); and the with-minus-without difference
of the probe per feature, paired by seed. Nothing is written to disk.
"""
import argparse
import json
import statistics
import subprocess
import sys


def run(binary, method, seed, lam, extra):
    args = [binary, "train", "--stages", "1", "--method", method, "--seed", str(seed), "--json", "--quiet"] + extra
    if lam is not None:
        args += ["--sparse-head", str(lam)]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def mean_sd(xs, scale=1.0, digits=1):
    m = statistics.mean(xs) * scale
    sd = statistics.stdev(xs) * scale if len(xs) > 1 else 0.0
    return f"{m:.{digits}f} ± {sd:.{digits}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=".build/release/mcl-ref")
    ap.add_argument("--lambda", dest="lam", type=float, default=1e-4)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--methods", default="simclr,byol,barlow")
    ap.add_argument("extra", nargs="*")
    a = ap.parse_args()
    seeds = [int(s) for s in a.seeds.split(",")]
    rows, deltas, features = [], [], None
    for method in a.methods.split(","):
        probes = {}
        for lam in (None, a.lam):
            reports = [run(a.binary, method, s, lam, a.extra) for s in seeds]
            features = reports[0]["features"]
            st = [r["per_stage"][0] for r in reports]
            probes[lam] = [[s["probe"][f] for f in features] for s in st]
            print(f"{method} sparse-head={lam}: done", file=sys.stderr)
            rows.append([method, "—" if lam is None else f"{lam:g}"]
                        + [mean_sd([s["probe"][f] for s in st], 100) for f in features]
                        + [mean_sd([s["knn"][f] for s in st], 100) for f in features]
                        + [mean_sd([s["active_head_columns"] for s in st], 1, 1) + f" / {st[0]['head_columns']:.0f}",
                           mean_sd([s["representation_analysis"]["raw"]["test_effective_rank"] for s in st], 1, 2),
                           mean_sd([s["test_min_max_ratio_distinct_rows"]["embedding"]["raw"] for s in st], 1, 3)])
        d = [[100 * (w - wo) for w, wo in zip(ws, wos)] for ws, wos in zip(probes[a.lam], probes[None])]
        deltas.append([method] + [mean_sd([x[k] for x in d], 1, 2) for k in range(len(features))])
    header = (["method", "SparseHead λ"] + [f"{f} probe %" for f in features] + [f"{f} 5-NN %" for f in features]
              + ["active head columns", "eff. rank (test repr.)", "min-max ratio (distinct test emb.)"])
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print()
    print("| method | " + " | ".join(f"Δ {f} probe (points, with − without, paired by seed)" for f in features) + " |")
    print("|" + "---|" * (len(features) + 1))
    for r in deltas:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
