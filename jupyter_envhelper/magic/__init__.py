"""The ``%envhelp`` magic: the core's answers in a notebook cell, for the kernel it runs in.

``magics`` is the IPython side (arguments, text, widgets), ``loop`` the data layer
(the core on a private event loop), ``widgets`` the plan view with its Confirm button.
"""

from __future__ import annotations

from .magics import EnvHelpMagics, load_ipython_extension, session_of, unload_ipython_extension

__all__ = ["EnvHelpMagics", "load_ipython_extension", "session_of", "unload_ipython_extension"]
