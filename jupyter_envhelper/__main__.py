"""``python -m jupyter_envhelper``."""

import gc
import sys

# What the imports make lives as long as the process: no collecting while they run
# (~80 collections that find nothing), then out of the collector's sight (freeze).
gc.disable()

from .probe.early import start_for_command  # noqa: E402

# the target's probe runs while the rest is imported (probe/early.py)
start_for_command(sys.argv[1:])

from .cli import main  # noqa: E402

# A command is short and most of what it makes is freed as it goes (no cycles): the
# young generation collected every 700 allocations was ~150 collections and ~0.3 s
# of a cold plan; every 20,000 it is a handful, and memory stays bounded.
gc.freeze()
gc.set_threshold(20_000, 20, 20)
gc.enable()
status = main()
# The process ends here: what the command made needs no collecting on the way out
# (tearing a plan's objects down at exit took ~0.3 s, a third of a small plan).
gc.freeze()
raise SystemExit(status)
