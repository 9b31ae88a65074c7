"""Where a change lives: said before installing, and enforced when a job starts.

From the probe's facts about the target (who owns its site-packages, which user the
kernel runs as, its home directory, whether it runs in a container):

- ``other-user``: site-packages belongs to another user. A shared environment (a
  course's conda env, a colleague's venv) is changed by its owner, never by us, even
  where we could write to it (as root, or through a group): a blocker, and the job
  runner refuses it (``refuse_other_owner``).
- ``image``: a JupyterHub server in a container, and outside the home directory (on
  such hubs only the home is a volume): the environment is part of the server's
  image, and what is installed there is gone when the server restarts. A warning
  with the way out (a personal environment).
- ``personal``: ours, and kept.

Not writable at all is the ``environment`` check's blocker already (advice/target_env.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Literal

from .environment import Environment
from .jobs.models import Refused

Kind = Literal["personal", "image", "other-user", "unknown"]


@dataclass(frozen=True)
class Placement:
    kind: Kind
    message: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _inside(path: str, folder: str) -> bool:
    path, folder = os.path.normpath(path), os.path.normpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def placement(env: Environment) -> Placement:
    """Where changes to ``env`` would live (see the module docstring)."""
    if env.synthetic_env:
        return Placement("unknown")
    info = env.data.get("environment") or {}
    purelib = (env.data.get("paths") or {}).get("purelib")
    owner_uid, uid = info.get("owner_uid"), info.get("uid")
    details: dict[str, Any] = {
        "purelib": purelib,
        "owner": info.get("owner"),
        "owner_uid": owner_uid,
        "uid": uid,
        "container": info.get("container"),
        "home": info.get("home"),
    }
    if isinstance(owner_uid, int) and isinstance(uid, int) and owner_uid != uid:
        who = info.get("owner") or f"uid {owner_uid}"
        return Placement(
            "other-user",
            f"This environment ({purelib}) belongs to another user ({who}), and "
            "jupyter-envhelper never changes an environment someone else owns: others "
            "may depend on it exactly as it is. Install into a personal environment "
            "instead, or ask its owner.",
            details,
        )
    home = info.get("home")
    hub = info.get("jupyterhub")
    if hub and info.get("container") and purelib and home and not _inside(str(purelib), str(home)):
        return Placement(
            "image",
            "This environment is part of the server image: changes are lost when your "
            f"server restarts (only your home directory, {home}, is kept). Install into "
            "a personal environment in your home directory instead?",
            details,
        )
    return Placement("personal", None, details)


def refuse_other_owner(env: Environment) -> None:
    """``Refused`` when a job would change an environment another user owns."""
    where = placement(env)
    if where.kind == "other-user":
        raise Refused(where.message or "", reason="other-owner")
