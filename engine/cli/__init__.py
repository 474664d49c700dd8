"""The `kinerja` command, one module per command group: `main` (the parser and the dispatch),
`common` (what the groups share), `policy`, `evaluate`, `review` and `admin`. Each command parses
its arguments, calls the facade (engine.api) or the service, and prints."""

from engine.cli.main import main, run

__all__ = ["main", "run"]
