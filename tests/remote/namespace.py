"""Run a command in a private mount namespace where ``REAL`` is bind-mounted on ``MOUNT``.

    unshare --mount --propagation private python namespace.py REAL MOUNT -- argv...

Only processes started from here (the kernel gateway and its kernels) see the files
under ``MOUNT``; everyone else sees the empty directory. ``mkvenv`` as argv makes a
venv at ``MOUNT/venv`` (with pip) whose ``.pth`` adds the test runner's site-packages,
so the venv's own Python can run ipykernel without installing it from PyPI.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig


def main() -> None:
    real, mount, sep, *argv = sys.argv[1:]
    assert sep == "--", "usage: namespace.py REAL MOUNT -- argv..."
    subprocess.run(["mount", "--bind", real, mount], check=True, timeout=30)
    if argv == ["mkvenv"]:
        venv = os.path.join(mount, "venv")
        subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=300)
        found = subprocess.run(
            [
                os.path.join(venv, "bin", "python"),
                "-c",
                "import sysconfig; print(sysconfig.get_path('purelib'))",
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        site = found.stdout.strip()
        with open(os.path.join(site, "zz_runner_site.pth"), "w", encoding="utf-8") as f:
            f.write(sysconfig.get_path("purelib") + "\n")
        return
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main()
