"""Kernels the server cannot reach by path (a kernel gateway's): probe and install
through the kernel itself.

- ``kernel``: run code in a running kernel, read iopub, interrupt it;
- ``probe``: ``KernelProber``, the prober that probes remote interpreters in their kernel;
- ``jobs``: ``KernelJobRunner``, the job runner that runs installers in the kernel's host.
"""

from .kernel import evaluate_remote, execute, is_gateway_manager
from .probe import KernelProber, RemoteKernel

__all__ = ["KernelProber", "RemoteKernel", "evaluate_remote", "execute", "is_gateway_manager"]
