"""``python -m cli`` is the same as ``svenn-sync``."""

from cli.main import main

main()
