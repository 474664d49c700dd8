"""`python -m engine.cli`: the same as the `kinerja` command (tests and benches run it so)."""

import sys

from engine.cli import main

sys.exit(main())
