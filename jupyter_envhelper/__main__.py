"""``python -m jupyter_envhelper``."""

from .cli import main

raise SystemExit(main())
