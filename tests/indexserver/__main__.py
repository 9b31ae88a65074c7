"""Serve the sample test index in the foreground, for the browser tests and by hand.

    python -m tests.indexserver --port 8765

Ctrl-C (or SIGTERM) stops it. Only 127.0.0.1 is bound.
"""

from __future__ import annotations

import argparse
import signal
import threading

from .fixtures import SAMPLE_DISTS, SAMPLE_NO_METADATA
from .realwheels import add_wheels, cache_root
from .server import IndexServer
from .wheels import DistSpec

# A package with a module the browser tests import after installing it, and a
# typo-squat of a popular name, on top of the pytest sample.
EXTRA_DISTS = (
    DistSpec("envhelper-demo", "1.0", module="envhelper_demo", summary="A tiny demo package"),
    DistSpec("reqeusts", "1.0", summary="Not the package you think"),
    # needs Python 3.12: on the 3.11 test kernel a plan is blocked (newenv.spec.ts)
    DistSpec("envhelper-new", "1.0", requires_python=">=3.12", module="envhelper_new"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    from tests.currency_dists import CURRENCY_DISTS  # outdated.spec.ts updates these

    dists = [*SAMPLE_DISTS, *EXTRA_DISTS, *CURRENCY_DISTS]
    server = IndexServer(dists, no_metadata=SAMPLE_NO_METADATA)
    # the real ipykernel wheels for 3.12, when the pytest run cached them
    # (realwheels.py): a new environment's kernel needs them (newenv.spec.ts).
    # Added before the server answers, so that no page is ever read half-filled.
    folder = cache_root() / "wheelhouse-cp312"
    if folder.is_dir():
        add_wheels(server, folder.glob("*.whl"))
    server.start(port=args.port)
    print(f"Serving the test index at {server.index_url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
