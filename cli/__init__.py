"""The ``svenn-sync`` command line."""
