"""Random streams: one root seed, one child per replication, one stream per purpose.

Derivation never mutates a parent (``SeedSequence.spawn`` does): a child is
built from the parent's ``entropy`` and ``spawn_key`` plus its own index, so
replication ``k`` of root seed ``s`` has the same streams whatever order,
process or machine computes it. Two scenarios run with the same seed share
common random numbers: the same families arrive at the same moments with the
same needs and the same per-family uniforms.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

import numpy as np

__all__ = [
    "PURPOSES",
    "UniformBlocks",
    "purpose_generator",
    "purpose_seed",
    "replication_seed",
    "row_array",
]

#: Stochastic purposes inside one replication; the order is part of the
#: reproducibility contract (append only).
PURPOSES: tuple[str, ...] = (
    "arrivals",  # arrival times of new families
    "families",  # per-family uniforms: need, decisions, durations, exit route
    "rereferrals",  # fresh per-family uniforms when a family comes back
    # Seeds the 64-bit key of the SplitMix64 hash that gives per-child placement
    # draws (stay costs, breakdowns, step-downs; see sim.model.placements); its
    # stream gives only the ages of children beyond the third in a family.
    "placement",
    "initial",  # the starting population
    "parameters",  # parameter uncertainty draws (once per replication)
    "uasc_arrivals",  # arrival times of unaccompanied asylum-seeking children
    "uasc",  # per-child uniforms of UASC: age at arrival, category needed, staying put
)


def replication_seed(root_seed: int, replication: int) -> np.random.SeedSequence:
    """Seed sequence of replication ``replication`` under ``root_seed``, side-effect free."""
    if root_seed < 0 or replication < 0:
        raise ValueError("seeds and replication indices must be >= 0")
    return np.random.SeedSequence(root_seed, spawn_key=(replication,))


def purpose_seed(parent: np.random.SeedSequence, purpose: str) -> np.random.SeedSequence:
    """Child of ``parent`` for one named purpose (see :data:`PURPOSES`)."""
    index = PURPOSES.index(purpose)
    return np.random.SeedSequence(parent.entropy, spawn_key=(*parent.spawn_key, index))


def purpose_generator(parent: np.random.SeedSequence, purpose: str) -> np.random.Generator:
    """A PCG64 generator for one purpose of one replication."""
    return np.random.Generator(np.random.PCG64(purpose_seed(parent, purpose)))


class UniformBlocks:
    """Hands out uniforms (singly or as rows) from blocks drawn in bulk.

    Drawing one value from a numpy ``Generator`` costs ~0.4 µs of overhead;
    the model needs millions, so they come in blocks of ``block`` values.
    """

    __slots__ = ("_block", "_buf", "_gen", "_pos", "_raw", "width")

    def __init__(self, gen: np.random.Generator, *, width: int = 1, block: int = 4096):
        self._gen = gen
        self.width = width
        self._block = block
        self._buf: list[float] = []  # the block, when width is 1
        self._raw = b""  # the block's bytes, when width > 1
        self._pos = block  # next index in the block; at the end, draw a new block

    def _refill(self) -> None:
        if self.width == 1:
            self._buf = self._gen.random(self._block).tolist()
        else:
            # Rows are made on demand from the block's bytes (see row_array).
            self._raw = self._gen.random((self._block, self.width)).tobytes()
        self._pos = 0

    def next(self) -> float:
        """One uniform in [0, 1)."""
        if self._pos >= self._block:
            self._refill()
        x = self._buf[self._pos]
        self._pos += 1
        return x

    def row(self) -> Sequence[float]:
        """One row of ``width`` uniforms, as its own array of doubles."""
        if self._pos >= self._block:
            self._refill()
        row = row_array(self._raw, self._pos, self.width)
        self._pos += 1
        return row


def row_array(raw: bytes, i: int, width: int) -> array[float]:
    """Row ``i`` of a C-ordered block of doubles given as ``raw`` bytes, as an ``array('d')``.

    A row of its own (~0.3 µs, 8 bytes a uniform; a list of floats costs ~4x
    the memory). Views into the block would be cheaper to make but would keep
    the whole block alive as long as any row of it is held.
    """
    n = width * 8
    row = array("d")
    row.frombytes(raw[i * n : (i + 1) * n])
    return row
