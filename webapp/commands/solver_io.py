"""Shared plumbing of the contract CLIs (``route``, ``replenish``)."""

from __future__ import annotations

import contextlib
import os
import sys

import click

EXIT_BAD_INPUT = 2


@contextlib.contextmanager
def native_stdout_to_stderr():
    """Native solver libraries may print to file descriptor 1; keep stdout for the plan."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no real descriptor 1 (e.g. under a test runner)
        yield
        return
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def fail(message: str) -> None:
    """Report bad input on stderr and exit with code 2."""
    click.echo(message, err=True)
    raise SystemExit(EXIT_BAD_INPUT)
