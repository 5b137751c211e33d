"""The SimPy model of one replication: no I/O, no printing."""

from sim.model.placements import ModelError
from sim.model.recorder import MonthGrid, RecorderArrays
from sim.model.simulation import ReplicationOutput, Simulation, simulate

__all__ = [
    "ModelError",
    "MonthGrid",
    "RecorderArrays",
    "ReplicationOutput",
    "Simulation",
    "simulate",
]
