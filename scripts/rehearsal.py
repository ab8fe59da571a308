"""`make rehearsal`: the README's server rehearsal, run exactly as printed there.

The shell block after "Rehearse the whole path on one machine" in README.md is read from the
README itself (so the two never differ) and run by ``bash -e``, each line shown as it runs; its
``svenn-sync wait-for`` lines make each line wait for the service the next one uses. When the
block is through, everything it started keeps running (the Prefect UI, the worker, the intake,
both sandboxes) until Ctrl-C or SIGTERM, which stops all of it; a failing line stops all of it
too. Every process the block starts carries a mark in its environment, so none is missed,
whatever its parent or session; the workers are stopped first, so they can mark the runs they
cut off Crashed while the server still answers.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INTRO = "Rehearse the whole path on one machine"
MARK = "SVENN_REHEARSAL_MARK"
BASH = shutil.which("bash") or "/bin/bash"
STOP_SECONDS = 30.0  # a worker's runs get 20 s to end; the rest stop at once


class RehearsalFailed(RuntimeError):
    """A line of the block failed; the message names its exit code."""


def rehearsal_block(readme: str) -> str:
    """The shell block that follows the rehearsal's introduction in the README."""
    after = readme[readme.index(INTRO) :]
    start = after.index("```sh\n") + len("```sh\n")
    return after[start : after.index("\n```", start) + 1]


def marked(mark: str) -> list[int]:
    """The live processes whose environment carries ``mark`` (read from /proc; Linux)."""
    found = []
    needle = f"{MARK}={mark}".encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            with suppress(OSError):
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
    return found


def _is_worker(pid: int) -> bool:
    with suppress(OSError):
        argv = (Path(f"/proc/{pid}") / "cmdline").read_bytes().split(b"\0")
        return any(part.endswith(b"svenn-sync") for part in argv) and b"worker" in argv
    return False


def _signal_all(pids: list[int], signum: int) -> None:
    for pid in pids:
        with suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def _wait_gone(mark: str, pids: list[int], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and set(pids) & set(marked(mark)):
        time.sleep(0.3)


def stop_rehearsal(mark: str) -> None:
    """Stop every process with the mark: the workers first, then the rest; SIGKILL stragglers."""
    workers = [pid for pid in marked(mark) if _is_worker(pid)]
    _signal_all(workers, signal.SIGTERM)
    _wait_gone(mark, workers, STOP_SECONDS)
    rest = marked(mark)
    _signal_all(rest, signal.SIGTERM)
    _wait_gone(mark, rest, 10.0)
    _signal_all(marked(mark), signal.SIGKILL)


@contextmanager
def rehearse(block: str, env: Mapping[str, str], output: int | None = None) -> Iterator[str]:
    """Run ``block`` with ``env`` from the repository root; yield once it is through, with
    everything it started still running (the mark in their environment); stop all of it
    after. RehearsalFailed if a line failed."""
    mark = uuid.uuid4().hex
    script = f"PS4='$ '\nset -x\n{block}"
    try:
        done = subprocess.run(  # noqa: S603 (the README's own block, run as the README says)
            [BASH, "-e", "-c", script],
            cwd=ROOT,
            env={**env, MARK: mark},
            stdout=output,
            stderr=subprocess.STDOUT if output is not None else None,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a terminal's Ctrl-C reaches this process, which stops all
            check=False,
        )
        if done.returncode != 0:
            code = done.returncode
            raise RehearsalFailed(f"the rehearsal stopped at a failed line (exit {code})")
        yield mark
    finally:
        stop_rehearsal(mark)


def main() -> int:
    """Run the README's rehearsal, keep it up until Ctrl-C, stop everything it started."""
    block = rehearsal_block((ROOT / "README.md").read_text())
    # Ctrl-C and SIGTERM alike stop it all, even when started in the background of a script
    # (which starts it with SIGINT ignored)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with rehearse(block, os.environ):
            print(
                "\nThe rehearsal is up: the Prefect UI at http://127.0.0.1:4200, the logs in "
                "data/rehearsal/. Ctrl-C stops everything it started.",
                flush=True,
            )
            while True:
                signal.pause()
    except RehearsalFailed as error:
        print(f"error: {error}; everything it started is stopped", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopped everything the rehearsal started", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
