"""What the alert tests need beside a real server: a local webhook receiver, and the server set
up as ops would (a Custom Webhook notification block, then ``svenn-sync prefect setup``)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.server.harness import ROOT, PrefectServer

ALERT_BLOCK = "ops-alerts"


@dataclass
class Receiver:
    """A local HTTP server that keeps every JSON body POSTed to it."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)

    def wait_for(
        self, matches: Callable[[dict[str, Any]], bool], timeout: float = 120.0
    ) -> dict[str, Any]:
        """The first message ``matches`` accepts, once it has come (fails after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in list(self.received) if matches(m)]
            if found:
                return found[0]
            time.sleep(0.2)
        raise AssertionError(f"no such notification came; received: {self.received}")


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    """A :class:`Receiver` on a free local port, stopped after."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append(json.loads(body or b"{}"))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook", received)
    finally:
        server.shutdown()
        server.server_close()


def save_webhook_block(server: PrefectServer, url: str, name: str = ALERT_BLOCK) -> None:
    """Save a Custom Webhook notification block on the server that POSTs subject and body."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.settings import PREFECT_API_URL, temporary_settings

    block = CustomWebhookNotificationBlock(
        name="svenn-sync ops",
        url=url,
        json_data={"subject": "{{subject}}", "body": "{{body}}"},
    )
    with temporary_settings({PREFECT_API_URL: server.api_url}):
        block.save(name, overwrite=True)


def prefect_setup(server: PrefectServer, block: str = ALERT_BLOCK) -> str:
    """``svenn-sync prefect setup`` against the server, as ops run it; what it printed."""
    result = subprocess.run(
        [sys.executable, "-m", "cli", "prefect", "setup"],
        env=server.env | {"SVENN_SYNC_ALERT_BLOCK": block, "COLUMNS": "300"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def alert_automations(server: PrefectServer) -> list[dict[str, Any]]:
    """The server's automations that notify ops of our alerts."""
    automations = server.api("POST", "/automations/filter", json={})
    return [a for a in automations if a["name"].startswith("svenn-sync: notify ")]
