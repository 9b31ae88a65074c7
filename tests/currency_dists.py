"""The projects of the currency tests (see ``currency_fixtures``), without pytest: the
browser tests' index (``python -m tests.indexserver``) serves them too."""

from __future__ import annotations

from tests.indexserver.wheels import DistSpec

CURRENCY_DISTS = [
    DistSpec("numx", "1.0", module="numx"),
    DistSpec("numx", "1.5", module="numx"),
    DistSpec("numx", "2.0", module="numx"),
    DistSpec("numx", "2.1", module="numx", yanked="broken build"),
    DistSpec("numx", "3.0a1", module="numx"),
    DistSpec("pands", "1.0", requires_dist=("numx<2",), module="pands"),
    DistSpec("tools", "1.0", module="tools"),
    DistSpec("tools", "1.1", module="tools"),
    DistSpec("needsnew", "1.0", module="needsnew"),
    DistSpec("needsnew", "2.0", requires_python=">=3.99", module="needsnew"),
    DistSpec("winonly", "1.0", module="winonly"),
    DistSpec("winonly", "2.0", tags="cp311-cp311-win_amd64", module="winonly"),
    DistSpec("top", "1.0", requires_dist=("left", "right"), module="top"),
    DistSpec("left", "1.0", requires_dist=("base>=1",), module="left"),
    DistSpec("right", "1.0", requires_dist=("base",), module="right"),
    DistSpec("base", "1.0", module="base"),
    DistSpec("base", "1.1", module="base"),
    DistSpec("hasdep", "1.0", requires_dist=("lonely",), module="hasdep"),
    DistSpec("lonely", "1.0", module="lonely"),
]
