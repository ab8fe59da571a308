"""``python -m sandboxes.tripletex``: run the Tripletex sandbox on a local port."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sandboxes.faults import parse_fault_option
from sandboxes.runner import serve_forever

from .app import create_app
from .seed import default_seed

SIZES = ("small", "demo", "bench")


DEFAULT_EMPLOYEE_TOKEN = "sandbox-employee-token"  # a sandbox value, not a secret


def generated_seed(size: str, seed: int, token: str = DEFAULT_EMPLOYEE_TOKEN) -> dict[str, Any]:
    """A seed document built by ``sandboxes.datagen`` (one company)."""
    from sandboxes.datagen import generate_world  # imported only when generating

    world = generate_world(int(size) if size.isdigit() else size, seed=seed)  # type: ignore[arg-type]
    from .seed import company_from_dataset

    return {"companies": [company_from_dataset(world.tripletex, 1001, token)]}


def main(argv: list[str] | None = None) -> None:
    """Parse options, build the app, print how to connect, serve until stopped."""
    parser = argparse.ArgumentParser(prog="python -m sandboxes.tripletex")
    parser.add_argument("--port", type=int, default=8701)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", type=Path, help="seed JSON file (see README)")
    parser.add_argument("--generate", help="small|demo|bench|N: generated Norwegian data")
    parser.add_argument("--generate-seed", type=int, default=42, help="random seed for --generate")
    parser.add_argument("--consumer-token", default="sandbox-consumer-token")
    parser.add_argument(
        "--employee-token",
        help="the employee token of the default or generated company (a --seed file names its own)",
    )
    parser.add_argument("--environment", choices=("production", "test"), default="production")
    parser.add_argument("--fault", action="append", default=[], help="KIND[:key=value,...]")
    parser.add_argument("--fault-seed", type=int)
    parser.add_argument("--rate-limit", type=int, default=100, help="per token per window; 0=off")
    parser.add_argument("--rate-window", type=float, default=10.0, help="seconds")
    args = parser.parse_args(argv)

    seed: dict[str, Any] | None = None
    if args.seed:
        seed = json.loads(args.seed.read_text())
    elif args.generate:
        if not (args.generate in SIZES or args.generate.isdigit()):
            parser.error("--generate takes small, demo, bench or a number")
        seed = generated_seed(
            args.generate, args.generate_seed, args.employee_token or DEFAULT_EMPLOYEE_TOKEN
        )
    elif args.employee_token:
        seed = default_seed(args.environment)
        seed["companies"][0]["employeeTokens"][0]["token"] = args.employee_token
    app = create_app(
        seed,
        consumer_token=args.consumer_token,
        environment=args.environment,
        rate_limit=args.rate_limit,
        rate_window_seconds=args.rate_window,
        faults=[parse_fault_option(f) for f in args.fault],
        fault_seed=args.fault_seed,
    )
    url = f"http://{args.host}:{args.port}/v2"
    print(f"Tripletex sandbox: {url}", flush=True)
    print(f"  consumer token: {args.consumer_token}", flush=True)
    for company in app.state.sandbox.companies.values():
        tokens = ", ".join(t.token for t in company.tokens)
        print(f"  company {company.id} ({company.name}): employee token(s) {tokens}", flush=True)
    serve_forever(app, args.port, args.host)


if __name__ == "__main__":
    main()
