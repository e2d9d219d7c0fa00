# procexec.futures.thread: concurrent.futures.thread, unchanged
#
# SPDX-License-Identifier: LGPL-2.1-or-later
"""concurrent.futures.thread, re-exported for symmetry with
procexec.futures.process."""

from concurrent.futures.thread import BrokenThreadPool, ThreadPoolExecutor

__all__ = ['BrokenThreadPool', 'ThreadPoolExecutor']
