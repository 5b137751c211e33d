"""Defaults shared by every layer: the root seed used when none is given.

It lives at the bottom of the house (with :mod:`sim.errors`) so that the
command line can show it without importing the model.
"""

__all__ = ["DEFAULT_SEED"]

#: Root seed used when none is given (by :func:`sim.run`, every command and the page).
DEFAULT_SEED = 20160401
