"""Collection settings for the doctests under ``sim/`` (``--doctest-modules``)."""

import importlib.util

# The page imports Shiny, which only the `app` extra installs; without it, skip
# collecting that one module rather than failing (tests/test_app.py skips its
# browser test with the reason).
collect_ignore = [] if importlib.util.find_spec("shiny") else ["sim/app/page.py"]
