"""``python -m jupyter_envhelper.search``: write the typo index of the shipped data
to the user cache (what a first search starts in the background; see ``index.py``)."""

from .index import write_near

write_near()
