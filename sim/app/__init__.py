"""The planner's page: a local Shiny for Python app over the same functions as the CLI.

:mod:`sim.app.levers` turns the page's form into config overrides and a
scenario TOML (pure functions, no Shiny); :mod:`sim.app.results` runs a
baseline and a scenario with common random numbers and turns the results into
charts, tables and downloads; :mod:`sim.app.page` is the Shiny UI and server.
``caresim app`` (:mod:`sim.cli.app`) starts it. Only :mod:`sim.app.page`
imports Shiny.
"""
