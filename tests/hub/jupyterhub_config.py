"""The JupyterHub of tests/test_hub.py: three users on one machine, as root.

Read from the environment (set by the test): ENVHELPER_HUB_DIR (state, homes),
ENVHELPER_HUB_PORT / _HUB_API_PORT / _PROXY_API_PORT, ENVHELPER_HUB_SERVICE_TOKEN (the
test's own admin service), ENVHELPER_HUB_PROXY (configurable-http-proxy), and
ENVHELPER_HUB_INDEX_URL (the loopback index the single-user servers plan against).

The envhelper part is what a deployment would write: the custom write scope, a role
that grants it (instructors), a role that only grants access to alice's server (a
helper who may look at alice's environments and plans, never change them), and the
single-user servers using ``HubScopesAuthorizer``.
"""

import os
import sys

c = get_config()  # type: ignore[name-defined]  # noqa: F821

state = os.environ["ENVHELPER_HUB_DIR"]
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = int(os.environ["ENVHELPER_HUB_PORT"])
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ["ENVHELPER_HUB_API_PORT"])
c.JupyterHub.db_url = "sqlite:///" + os.path.join(state, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(state, "cookie_secret")
c.JupyterHub.pid_file = os.path.join(state, "jupyterhub.pid")
c.ConfigurableHTTPProxy.command = [os.environ["ENVHELPER_HUB_PROXY"]]
proxy_api_port = os.environ["ENVHELPER_HUB_PROXY_API_PORT"]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.pid_file = os.path.join(state, "proxy.pid")

c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = {"alice", "bob", "carol"}
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = os.path.join(state, "home", "{username}")
c.Spawner.cmd = [os.path.join(os.path.dirname(sys.executable), "jupyterhub-singleuser")]
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.environment = {
    "JUPYTER_PATH": os.path.join(state, "share"),  # the "target" kernelspec
    "PYTHONNOUSERSITE": "1",
}
c.Spawner.args = [
    "--allow-root",  # the tests run as root; a real hub spawns as each user
    "--ServerApp.authorizer_class=jupyter_envhelper.server.hub.HubScopesAuthorizer",
    "--EnvHelperApp.index_url=" + os.environ["ENVHELPER_HUB_INDEX_URL"],
]

# -- the site policy -----------------------------------------------------------------------
c.JupyterHub.custom_scopes = {
    "custom:envhelper:write": {
        "description": "Install, remove and undo packages with jupyter-envhelper.",
    },
}
c.JupyterHub.load_roles = [
    {"name": "envhelper-writer", "scopes": ["custom:envhelper:write"], "users": ["alice"]},
    {"name": "alice-helper", "scopes": ["access:servers!user=alice"], "users": ["carol"]},
    {
        "name": "tester",
        "scopes": ["admin:users", "admin:servers", "tokens", "read:users"],
        "services": ["tester"],
    },
]
c.JupyterHub.services = [
    {"name": "tester", "api_token": os.environ["ENVHELPER_HUB_SERVICE_TOKEN"]},
]
