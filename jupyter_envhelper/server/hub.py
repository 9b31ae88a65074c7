"""Under JupyterHub: the hub's scopes mapped onto jupyter-server's read/write permissions.

JupyterHub's own single-user authorizer lets anyone who may *access* a server do
everything on it. A site that wants read-only users (students who may look at
environments and plans, but not change them) configures this one instead::

    # jupyterhub_config.py
    c.JupyterHub.custom_scopes = {
        "custom:envhelper:write": {"description": "change environments with jupyter-envhelper"},
    }
    c.Spawner.args = [
        "--ServerApp.authorizer_class=jupyter_envhelper.server.hub.HubScopesAuthorizer",
    ]

The rules, per request to the single-user server of ``$JUPYTERHUB_USER``:

- no ``access:servers`` scope for this server: refused (the hub refuses it before us);
- ``read`` of anything: allowed;
- ``write``/``execute`` on the ``envhelper`` resource (installs, removals, undo): the
  owner, while ``owner_can_write`` is true, or anyone whose token holds the custom
  scope ``write_scope`` (``custom:envhelper:write``);
- ``write``/``execute`` of anything else (contents, kernels, terminals): the owner only,
  so someone given access to another user's server to help can look, not change.

It imports nothing from jupyterhub at import time (scope filters are resolved with
``jupyterhub.services.auth.check_scopes`` when it is there).
"""

from __future__ import annotations

import os
from typing import Any

from jupyter_server.auth import Authorizer
from traitlets import Bool, Unicode

RESOURCE = "envhelper"


def _has(required: str, scopes: set[str]) -> bool:
    try:
        from jupyterhub.services.auth import check_scopes
    except ImportError:  # no jupyterhub here: exact names only
        return required in scopes or required.partition("!")[0] in scopes
    return bool(check_scopes({required}, scopes))


class HubScopesAuthorizer(Authorizer):
    """Read for everyone the hub lets in; changes for the owner or a write scope."""

    write_scope = Unicode(
        "custom:envhelper:write",
        config=True,
        help="The JupyterHub (custom) scope that allows changing environments.",
    )
    owner_can_write = Bool(
        True,
        config=True,
        help="Whether the server's owner may change environments without write_scope "
        "(False: a read-only site where only holders of write_scope install).",
    )

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        hub_user = getattr(user, "hub_user", None)
        if not isinstance(hub_user, dict):
            return False
        scopes = {str(s) for s in hub_user.get("scopes") or ()}
        owner = os.environ.get("JUPYTERHUB_USER", "")
        server = f"{owner}/{os.environ.get('JUPYTERHUB_SERVER_NAME', '')}"
        if not _has(f"access:servers!server={server}", scopes):
            return False
        if action == "read":
            return True
        is_owner = bool(owner) and hub_user.get("name") == owner
        if resource == RESOURCE:
            if is_owner and self.owner_can_write:
                return True
            return _has(f"{self.write_scope}!user={owner}", scopes)
        return is_owner
