"""mcl-ref's cluster-batch sampler as a PyTorch batch sampler, with DistributedSampler's rank semantics.

Every batch comes wholly from one pseudo-label group (official MCL code), so a plain contrastive loss
over it is the masked loss of paper Eq. 3. Epoch e, batch size b, world size W, rank r:

1. for each group g in order, its members (ascending index) are Fisher–Yates shuffled by one generator
   ``XoshiroRNG(seed, stream=e)`` and cut to the first floor(|g| / (b·W))·b·W;
2. rank r keeps the positions j with j % W == r (as ``torch.utils.data.DistributedSampler`` does with
   its padded index list), in batches of b;
3. batches are emitted round-robin over groups.

All ranks draw the same shuffles from the same seed, so they agree on the kept set without
communicating; every rank yields the same number of batches (DDP needs equal step counts).
Reproducing mcl-ref's batches *exactly* needs mcl-ref's generator (xoshiro256** seeded by
SplitMix64, Sources/Numerics/RNG.swift), ported below in plain Python integers.
"""
import torch
from torch.utils.data import Sampler

M64 = (1 << 64) - 1


def _splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return x, z ^ (z >> 31)


def _rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M64


class XoshiroRNG:
    """xoshiro256** as mcl-ref's ``RNG``: ``XoshiroRNG(seed)``, ``XoshiroRNG(seed, stream=k)``."""

    def __init__(self, seed, stream=None):
        seed &= M64
        if stream is not None:
            s = seed ^ ((stream * 0xD1B54A32D192ED03) & M64) ^ 0x8CB92BA72F3D8DD7
            _, seed = _splitmix64(s)
        s, state = seed, []
        for _ in range(4):
            s, v = _splitmix64(s)
            state.append(v)
        self.s = state

    def next(self):
        s = self.s
        result = (_rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 45)
        return result

    def split(self):
        return XoshiroRNG(self.next())

    def int_below(self, bound):
        """Lemire's nearly-divisionless uniform integer in [0, bound)."""
        m = self.next() * bound
        low = m & M64
        if low < bound:
            threshold = ((1 << 64) - bound) % bound
            while low < threshold:
                m = self.next() * bound
                low = m & M64
        return m >> 64

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.int_below(i + 1)
            items[i], items[j] = items[j], items[i]


def stage_sampler_seed(run_seed, stage):
    """The sampler seed mcl-ref's StageTrainer draws for stage j: stream 1000 + j, after the split
    that seeds the initial weights (StageTrainer.train: initial weights, sampler seed, augmentation, …)."""
    rng = XoshiroRNG(run_seed, stream=1000 + stage)
    rng.split()
    return rng.next()


class ClusterBatchSampler(Sampler):
    """Yields lists of sample indices (one batch each) for ``DataLoader(batch_sampler=...)``.

    ``pseudo_labels``: dense group id per sample (int sequence or LongTensor). Call ``set_epoch(e)``
    before each epoch, like ``DistributedSampler``. ``batches_with_groups(e)`` also returns each
    batch's group.
    """

    def __init__(self, pseudo_labels, batch_size, seed, num_replicas=None, rank=None):
        if num_replicas is None or rank is None:
            if torch.distributed.is_available() and torch.distributed.is_initialized():
                num_replicas = torch.distributed.get_world_size() if num_replicas is None else num_replicas
                rank = torch.distributed.get_rank() if rank is None else rank
            else:
                num_replicas, rank = num_replicas or 1, rank or 0
        if batch_size < 1 or num_replicas < 1 or not 0 <= rank < num_replicas:
            raise ValueError(f"batch_size={batch_size}, num_replicas={num_replicas}, rank={rank}")
        labels = [int(v) for v in pseudo_labels]
        self.groups = [[] for _ in range(max(labels) + 1)]
        for i, g in enumerate(labels):
            self.groups[g].append(i)
        self.batch_size, self.num_replicas, self.rank, self.seed = batch_size, num_replicas, rank, seed
        self.epoch = 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def batches_with_groups(self, epoch):
        rng = XoshiroRNG(self.seed, stream=epoch)
        unit = self.batch_size * self.num_replicas
        per_group = []
        for members in self.groups:
            kept = list(members)
            rng.shuffle(kept)
            kept = kept[: len(kept) // unit * unit]
            mine = kept[self.rank::self.num_replicas]
            per_group.append([mine[k:k + self.batch_size] for k in range(0, len(mine), self.batch_size)])
        out, rnd = [], 0
        while any(rnd < len(b) for b in per_group):
            out += [(g, b[rnd]) for g, b in enumerate(per_group) if rnd < len(b)]
            rnd += 1
        return out

    def __iter__(self):
        return iter([b for _, b in self.batches_with_groups(self.epoch)])

    def __len__(self):
        return sum(len(m) // (self.batch_size * self.num_replicas) for m in self.groups)
