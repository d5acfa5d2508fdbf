"""Workflows a person starts — set up a company, train, retrain, manage the FAQ, export — as plain functions.

Each takes ``Settings`` (and what else it needs) and returns a result; none prints, parses arguments or exits,
so the CLI (``api/commands/``), the routes and the tests drive the same code in-process.
"""
