"""Shared plumbing of the contract CLIs (``route``, ``replenish``)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys

import click

EXIT_BAD_INPUT = 2


class Day(click.ParamType):
    """A date ``YYYY-MM-DD`` from ``FIRST_DAY`` to ``LAST_DAY`` (``webapp.limits``)."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        import datetime as dt

        from webapp.limits import FIRST_DAY, LAST_DAY
        if isinstance(value, dt.date):
            return value
        try:
            day = dt.date.fromisoformat(value.strip())
        except ValueError:
            self.fail(f"{value!r} is not a date like 2026-11-20", param, ctx)
        if not FIRST_DAY <= day.isoformat() <= LAST_DAY:
            self.fail(f"{day} is outside {FIRST_DAY} … {LAST_DAY}", param, ctx)
        return day


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


def read_json_input(input_file) -> object:
    """The input document, or ``error: ...`` and exit 2 when it is not UTF-8 JSON."""
    try:
        return json.load(input_file)
    except UnicodeDecodeError as exc:
        fail(f"error: input is not UTF-8 text: byte 0x{exc.object[exc.start]:02x} at "
             f"offset {exc.start} cannot be decoded")
    except json.JSONDecodeError as exc:
        fail(f"error: input is not valid JSON: {exc}")


class FiniteFloatRange(click.FloatRange):
    """A float range that also refuses ``nan`` and ``inf`` (which compare as in range);
    ``unit`` names what the number counts in the message."""

    def __init__(self, *args, unit: str = "seconds", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.unit = unit

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number; give {self.unit} from {self.min:g} "
                      f"to {self.max:g}.", param, ctx)
        return number


class OutputFile(click.File):
    """The plan's file, opened only to write the plan (as click does for ``"w"``), but
    with its path checked at once: a missing folder, a folder given as the file, or a file
    that cannot be written is a usage error before an hour-long solve, not after it."""

    def __init__(self) -> None:
        super().__init__("w", lazy=True)

    def convert(self, value, param, ctx):
        if isinstance(value, (str, os.PathLike)) and os.fspath(value) != "-":
            path = os.fspath(value)
            problem = _unwritable(path)
            if problem:
                self.fail(f"'{click.format_filename(path)}': {problem}", param, ctx)
        return super().convert(value, param, ctx)


def _unwritable(path: str) -> str | None:
    if os.path.isdir(path):
        return "is a directory"
    if os.path.exists(path):
        return None if os.access(path, os.W_OK) else "permission denied"
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        return f"no such directory: '{click.format_filename(folder)}'"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"permission denied to create a file in '{click.format_filename(folder)}'"
    return None


def write_output(output_file, text: str) -> None:
    """Write the plan; a failure (a full disk, a closed pipe) is ``error: ...`` on stderr
    and exit code 1, not a traceback."""
    try:
        output_file.write(text)
        output_file.flush()
    except (OSError, click.FileError) as exc:
        with contextlib.suppress(OSError):
            output_file.close()   # a failed flush would otherwise be retried at exit
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        name = getattr(output_file, "name", "the output")
        click.echo(f"error: cannot write the plan to {name}: {reason}", err=True)
        raise SystemExit(1) from None


def solver_options(contract: str, strategies: tuple[str, ...], min_time_limit_s: float,
                   max_seed: int | None = None):
    """The options every contract command takes: input, output, strategy, time limit,
    workers and seed (each solve passes the last two explicitly; ``max_seed``: seeds
    from 0 to it, when the solver takes no others)."""
    options = [
        click.option("--input", "input_file", required=True,
                     type=click.File("r", encoding="utf-8"),
                     help=f"{contract.title()} problem JSON (the {contract} contract); "
                          "'-' reads stdin."),
        click.option("--output", "output_file", default="-", type=OutputFile(),
                     help="Where to write the plan JSON; stdout by default."),
        click.option("--strategy", type=click.Choice(list(strategies)), default=None,
                     help="Overrides policy.strategy."),
        click.option("--time-limit", "time_limit_s",
                     type=FiniteFloatRange(min=min_time_limit_s, max=3600.0), default=None,
                     help="Seconds; overrides policy.time_limit_seconds."),
        click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True,
                     help="Solver threads."),
        click.option("--seed", type=int if max_seed is None else click.IntRange(0, max_seed),
                     default=0, show_default=True,
                     help="Solver random seed."),
    ]

    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command

    return decorate
