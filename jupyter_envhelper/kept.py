"""Values worked out from an ``Environment``, kept with it while it is unchanged.

A server answers many requests about the same few environments (a hub host's users
share an image; a kernel's environment is asked about on every request), and the
prober hands out the very same ``Environment`` object while the environment on disk
is unchanged. What is worked out from it on the event loop for each request (a plan's
key, a document of every distribution, the server's own requirements) is worked out
once per object instead: ``remember(env, name, value)``, then ``remembered(env,
name)`` until ``env`` is gone or made of other objects.

The check is by identity, not by hashing, so it costs microseconds: ``env``'s two
dictionaries, their keys and their values must be the very objects they were
(``Distribution`` objects are frozen). A value set or replaced in either dictionary
is noticed; a nested part of ``env.data`` changed in place is not: environments are
not changed in place (the prober and ``core/enable.py``'s ``with_find_links`` make
new ones).
"""

from __future__ import annotations

import operator
import weakref
from typing import Any

from .environment import Environment

# (id of the Environment, name) -> (a weak reference to it, what it was made of when
# the value was kept, the value); an entry goes with its Environment
_KEPT: dict[tuple[int, str], tuple[weakref.ref[Environment], tuple[Any, ...], Any]] = {}


def _made_of(env: Environment) -> tuple[Any, ...]:
    return (
        env.synthetic_env, env.data, env.distributions,
        *env.data, *env.data.values(), *env.distributions, *env.distributions.values(),
    )  # fmt: skip


def _forget(slot: tuple[int, str], ref: weakref.ref[Environment]) -> None:
    found = _KEPT.get(slot)
    if found is not None and found[0] is ref:
        del _KEPT[slot]


def remembered(env: Environment, name: str) -> Any:
    """What ``remember(env, name, ...)`` kept, while ``env`` is unchanged; else None."""
    found = _KEPT.get((id(env), name))
    if found is None or found[0]() is not env:
        return None
    made_of = _made_of(env)
    kept = found[1]
    if len(kept) != len(made_of) or not all(map(operator.is_, kept, made_of)):
        return None
    return found[2]


def remember(env: Environment, name: str, value: Any) -> Any:
    """Keep ``value`` (worked out from ``env``, and never changed afterwards: every
    caller gets this very object) with ``env``; returns ``value``."""
    slot = (id(env), name)
    ref = weakref.ref(env, lambda r: _forget(slot, r))
    _KEPT[slot] = (ref, _made_of(env), value)
    return value
