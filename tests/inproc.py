"""Runs the coach CLI inside the test process, the way a user's shell would, without a new interpreter."""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass

from coach.cli.app import main


@dataclass
class Result:
    """What a command left behind: its exit status and everything it printed."""

    returncode: int
    stdout: str
    stderr: str


class _Terminal(io.StringIO):
    """A captured stream that says it is not a terminal, like a pipe."""

    def isatty(self) -> bool:
        return False


def coach(*args: str, cwd=None, env_extra: dict[str, str] | None = None) -> Result:
    """`coach ARGS...` run in-process with captured output; cwd and extra environment are restored after."""
    out, err = _Terminal(), _Terminal()
    saved_env = {k: os.environ.get(k) for k in (env_extra or {})}
    saved_cwd = os.getcwd()
    code = 0
    try:
        os.environ.update(env_extra or {})
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main([str(a) for a in args])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        os.chdir(saved_cwd)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return Result(int(code), out.getvalue(), err.getvalue())


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """`coach ARGS...` run in-process, its output taken from pytest's capsys: exit code, stdout, stderr."""
    code = 0
    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    captured = capsys.readouterr()
    return code, captured.out, captured.err
