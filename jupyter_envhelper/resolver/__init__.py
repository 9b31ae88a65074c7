"""The resolver: resolvelib over the index client, for one target Environment.

``plan_install(requirements, env, client)`` -> ``Plan`` (or ``ResolutionConflict``);
``plan_uninstall(names, env)`` -> ``Plan``. Modules, one concept each:
``requirements`` and ``candidates`` (the resolver's types), ``factory`` (files,
versions and dependencies for the target), ``fetching`` (thread/loop bridge with
speculative prefetch), ``provider`` (resolvelib glue), ``explain`` (conflicts in
words, with checked ways out), ``builds`` (will a chosen sdist build? the forecast
from the index), ``breaks`` (installed packages a plan would break), ``resolve`` (the
entry points).

Choices, where pip and uv leave room:

- Installed versions are tried first ("change as little as possible"); ``upgrade=True``
  drops that preference for the requested names only. Installed distributions not
  reached by the request are not constraints: a plan that breaks one lists it in
  ``Plan.breaks`` (pip would warn after installing and still exit 0).
- Pre-releases: only when asked (``allow_prereleases``), when a specifier names one
  (``>=2.0rc1``), or when no final release satisfies the requirements (as pip).
- Yanked files (PEP 592): only for an exact ``==``/``===`` pin of that version.
- Local version labels (PEP 440): ``==2.1.0`` matches ``2.1.0+cpu`` and
  ``2.1.0+cu121``; among equal public versions the un-labelled release is preferred,
  then labels in PEP 440 order; ``==2.1.0+cpu`` pins the variant. (pip would take the
  highest label, ``+cu121``; the advice layer knows the GPU, so the planner does not
  guess a CUDA build.) A fitting wheel comes before any sdist-only build of the same
  public version, though: ``1.2.3+foo`` (a wheel) beats ``1.2.3`` (an sdist only), as
  pip and uv choose, so a build is never planned while a wheel of that release fits.
- Files: the best-ranked compatible wheel per version by the target's
  ``supported_tags()``; an sdist only when no wheel fits (its action's file kind is
  "sdist": it needs a build). Requires-Python is checked on files (as the index
  reports it) and on metadata (as the target Python candidate).
"""

from __future__ import annotations

from .resolve import plan_install, plan_uninstall, target_summary

__all__ = ["plan_install", "plan_uninstall", "target_summary"]
