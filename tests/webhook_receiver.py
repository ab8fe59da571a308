"""A small local HTTP receiver for webhook deliveries, for tests (real HTTP, one thread)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    """One POST the receiver got."""

    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        """The JSON body."""
        return json.loads(self.raw)


@dataclass
class Receiver:
    """What was received; ``answer`` picks the status for each POST (default 200)."""

    url: str = ""
    got: list[Received] = field(default_factory=list)
    answer: Callable[[Received], int] = lambda _: 200
    gate: threading.Event = field(default_factory=threading.Event)
    in_flight: int = 0

    def wait_for(self, count: int, seconds: float = 60.0) -> list[Received]:
        """Wait until ``count`` POSTs arrived (a failure deadline, not a measurement)."""
        deadline = time.monotonic() + seconds
        while len(self.got) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.got) >= count, f"received {len(self.got)} of {count}"
        return list(self.got)


@contextmanager
def receiver() -> Iterator[Receiver]:
    """Serve a receiver on 127.0.0.1; yields it with its ``url`` set."""
    state = Receiver()
    state.gate.set()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            item = Received({k.lower(): v for k, v in self.headers.items()}, raw)
            state.in_flight += 1
            state.gate.wait(30)
            state.in_flight -= 1
            status = state.answer(item)
            state.got.append(item)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.gate.set()
        server.shutdown()
        server.server_close()
