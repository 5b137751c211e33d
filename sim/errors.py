"""Exceptions raised by caresim.

Every error a user can cause derives from :class:`CaresimError`, so the CLI can
catch them and print a short message instead of a traceback.
"""

from __future__ import annotations

__all__ = ["CaresimError", "ConfigError"]


class CaresimError(Exception):
    """Base class of errors caused by user input (configs, data, arguments)."""


class ConfigError(CaresimError):
    """A configuration file is missing, unreadable or invalid.

    The message names the file, the dotted key path, the offending value and
    what was expected, e.g.::

        configs/x.toml: placement_types.foster_in_house.capacity = -3:
        expected a number >= 0
    """

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None):
        super().__init__(message)
        self.path = path
        self.key = key
