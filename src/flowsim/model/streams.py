"""Random streams: one ``numpy.random.Generator`` per source of randomness.

Every stream is keyed by *what* it drives (sales arrivals, customer 17's tickets,
...), not by the order in which the simulation happens to ask for it.  So a
policy that changes when things happen leaves what happens unchanged: customer
17's tickets have the same inter-arrival times and efforts under every policy
(common random numbers).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Source(IntEnum):
    """The sources of randomness; the value is part of each stream's seed key."""

    SALES = 1
    ONBOARDING = 2
    TICKETS = 3
    CALLS = 4
    CHURN = 5
    PINGS = 6
    FORGETTING = 7
    QUALITY = 8
    REVIEWS = 9
    PATIENCE = 10
    TRIAGE = 11
    ESCALATIONS = 12
    ASKS = 13
    PING_EFFORT = 14
    STATE = 15  # the efforts of a starting state's open work


class Streams:
    """Factory of independent, reproducible generators under one seed sequence."""

    def __init__(self, seed: int | np.random.SeedSequence) -> None:
        self.root = (
            seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        )

    def get(self, source: Source, index: int = 0) -> np.random.Generator:
        """The generator of ``source`` for entity ``index`` (e.g. a customer id)."""
        seq = np.random.SeedSequence(
            entropy=self.root.entropy, spawn_key=(*self.root.spawn_key, int(source), index)
        )
        return np.random.Generator(np.random.PCG64(seq))


def replication_seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    """Independent child seed sequences, one per replication, from one root seed."""
    return np.random.SeedSequence(seed).spawn(replications)
