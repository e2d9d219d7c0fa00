# _sharing.py: multiprocessing objects in initargs, as CPython's "spawn"
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# CPython pickles a worker's initializer and initargs while it spawns that
# worker, with multiprocessing's "spawning" state set. That is what lets
# initargs hold a multiprocessing Queue, Lock, Event, Value or Array:
# their __getstate__ checks context.assert_spawning(), and the file
# descriptors inside them (pipes, shared memory) travel with the new
# process.
#
# procexec pickles initializer and initargs once, in the constructor, for
# every worker it will ever start. This module does the same pickling with
# the spawning state set, and turns every file descriptor into a
# _SharedFd: a reference that each worker, when it unpickles the
# initargs, redeems over a multiprocessing.connection (authenticated with
# the process's authkey, which the worker got from its parent) for its own
# copy of the descriptor, passed with SCM_RIGHTS. Unlike
# multiprocessing.resource_sharer, a _SharedFd can be redeemed any number
# of times, by every worker, until the executor is gone.
#
# Semaphores travel by name, as in CPython, so objects made with the "fork"
# context (whose semaphores have no name) still cannot be sent.

import os
import threading

from multiprocessing import context, process, reduction
from multiprocessing.connection import Client, Listener

__all__ = ['dumps_spawning', 'release']


class _FdServer:
    """Hands out copies of registered file descriptors.

    It listens only while some descriptor is registered: its thread ends
    when the last one is released.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._fds = {}
        self._next_key = 0
        self._listener = None
        self._thread = None
        self.address = None

    def register(self, fd):
        with self._lock:
            if self._listener is None:
                self._listener = Listener(authkey=process.current_process().authkey)
                self.address = self._listener.address
                self._thread = threading.Thread(target=self._serve, args=(self._listener,),
                                                name='procexec-fd-server', daemon=True)
                self._thread.start()
            self._next_key += 1
            key = self._next_key
            self._fds[key] = os.dup(fd)
            return key

    def unregister(self, keys):
        thread = None
        with self._lock:
            for key in keys:
                fd = self._fds.pop(key, None)
                if fd is not None:
                    os.close(fd)
            if not self._fds and self._listener is not None:
                # Nothing left to share: stop serving.
                address, thread = self.address, self._thread
                self._listener = self._thread = self.address = None
        if thread is not None:
            try:
                with Client(address, authkey=process.current_process().authkey) as conn:
                    conn.send(None)
            except Exception:
                pass
            if thread is not threading.current_thread():
                thread.join()

    def _serve(self, listener):
        with listener:
            while True:
                try:
                    conn = listener.accept()
                except OSError:
                    return
                except Exception:
                    # A client that failed authentication, or went away.
                    continue
                try:
                    with conn:
                        request = conn.recv()
                        if request is None:
                            return
                        key, pid = request
                        with self._lock:
                            fd = self._fds.get(key)
                            if fd is not None:
                                fd = os.dup(fd)
                        if fd is None:
                            conn.send(None)
                            continue
                        try:
                            conn.send(key)
                            reduction.send_handle(conn, fd, pid)
                        finally:
                            os.close(fd)
                except Exception:
                    continue


_server = _FdServer()


class _SharedFd:
    """Stands for a file descriptor of the parent in a pickle."""

    def __init__(self, address, key):
        self.address = address
        self.key = key

    def detach(self):
        """Gets this process's own copy of the descriptor."""
        with Client(self.address, authkey=process.current_process().authkey) as conn:
            conn.send((self.key, os.getpid()))
            if conn.recv() is None:
                raise OSError('procexec: the executor that shared this file '
                              'descriptor is gone')
            return reduction.recv_handle(conn)


class _SpawningPopen:
    """What multiprocessing asks the process being spawned for."""

    def __init__(self, keys):
        self.keys = keys

    def duplicate_for_child(self, fd):
        return fd

    def DupFd(self, fd):
        key = _server.register(fd)
        self.keys.append(key)
        return _SharedFd(_server.address, key)


def dumps_spawning(obj):
    """Pickles @obj as multiprocessing pickles a spawned process's data.

    Returns (pickle, keys): keys name the file descriptors shared for it,
    to give to release() once no worker will need them.
    """
    keys = []
    context.set_spawning_popen(_SpawningPopen(keys))
    try:
        return bytes(reduction.ForkingPickler.dumps(obj)), keys
    except BaseException:
        _server.unregister(keys)
        raise
    finally:
        context.set_spawning_popen(None)


def release(keys):
    """Closes the parent's copies of the descriptors of dumps_spawning()."""
    if keys:
        _server.unregister(keys)
