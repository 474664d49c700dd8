"""`python -m engine.cli`: the same as the `kinerja` command (tests and benches run it so)."""

from engine.cli import run

run()
