"""``python -m sandboxes.svenn --port 8702 [--seed FILE] [--generate SIZE] [--fault SPEC]``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sandboxes.faults import parse_fault_option
from sandboxes.runner import serve_forever

from .app import create_app
from .seed import example_seed, tenant_from_dataset


def generated_seed(size: str, seed: int) -> dict[str, Any]:
    """One tenant built from the data generator's Svenn side."""
    from sandboxes.datagen import generate_world  # lazy: only the CLI needs it

    world = generate_world(int(size) if size.isdigit() else size, seed=seed)
    return {"tenants": [tenant_from_dataset(world.svenn, "t-demo", "svenn-demo-key")]}


def main(argv: list[str] | None = None) -> None:
    """Parse options, seed, print the URL and API keys, serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m sandboxes.svenn", description=__doc__)
    parser.add_argument("--port", type=int, default=8702)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", type=Path, help="seed JSON file ({'tenants': [...]})")
    parser.add_argument("--generate", help="small | demo | bench | N: generated data")
    parser.add_argument("--random-seed", type=int, default=0, help="generator seed")
    parser.add_argument("--feed-retention", type=int, default=100_000)
    parser.add_argument("--fault", action="append", default=[], help="e.g. 500:rate=0.1")
    args = parser.parse_args(argv)
    if args.seed:
        seed = json.loads(args.seed.read_text())
    elif args.generate:
        seed = generated_seed(args.generate, args.random_seed)
    else:
        seed = example_seed()
    faults = [parse_fault_option(text) for text in args.fault]
    app = create_app(seed, feed_retention=args.feed_retention, faults=faults)
    url = f"http://{args.host}:{args.port}"
    print(f"Svenn sandbox on {url}/api/v1 (contract: {url}/openapi.json)", flush=True)
    for tenant in app.state.sandbox.tenants.values():
        counts = ", ".join(f"{len(c)} {name}" for name, c in tenant.collections.items())
        print(f"  tenant {tenant.id} ({tenant.name}): API key {tenant.api_key} — {counts}")
    serve_forever(app, args.port, args.host)


if __name__ == "__main__":
    main()
