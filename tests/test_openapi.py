"""docs/openapi.yaml and the registered routes stay in step."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from jupyter_envhelper.server.routes import ROUTES

SPEC = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"


def spec_paths() -> dict[str, Any]:
    paths: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))["paths"]
    return paths


def route_as_openapi(pattern: str) -> str:
    # tornado groups such as (?P<name>[^/]+) become OpenAPI's {name}
    return "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)


def test_every_route_is_documented_and_every_documented_path_is_routed() -> None:
    routed = {route_as_openapi(pattern) for pattern, _ in ROUTES}
    assert routed == set(spec_paths())


def test_documented_methods_exist_on_the_handlers() -> None:
    handlers = {route_as_openapi(pattern): handler for pattern, handler in ROUTES}
    for path, operations in spec_paths().items():
        for method in operations:
            assert method in {"get", "post", "put", "delete", "patch"}
            assert method.upper() in handlers[path].SUPPORTED_METHODS
            ours = [
                k for k in handlers[path].__mro__ if k.__module__.startswith("jupyter_envhelper")
            ]
            assert any(method in vars(k) for k in ours), (
                f"{path} documents {method.upper()} but the handler does not implement it"
            )


async def test_documented_get_paths_answer_on_a_live_server(jp_fetch: Any) -> None:
    for path, operations in spec_paths().items():
        if path.endswith("undo-preview"):
            continue  # needs a recorded job: tests/test_beginner_api.py
        if "get" in operations and "{" not in path:
            needs_kernel = path.endswith(
                ("environment", "history", "export", "outdated", "graph", "enable-magic")
            )
            params = {"kernel": "python3"} if needs_kernel else {}
            if path.endswith("search"):
                params = {"q": "alpha"}
            if path.endswith("rescue"):
                params = {"module": "alpha", "kernel": "python3"}
            response = await jp_fetch(*path.strip("/").split("/"), params=params)
            assert response.code == 200
