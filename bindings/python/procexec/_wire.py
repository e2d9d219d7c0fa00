# _wire.py: how calls and outcomes travel between the parent and a worker
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A call (fn, args, kwargs) travels as a pickle; a task's outcome as a
# pickle followed by a kind byte (see _worker).
#
# Usually that pickle is the whole GVariant: a call is a `(ay)`, an outcome
# an `ay`, whose serialized form is the bytes themselves (one copy into a
# GBytes, no per-byte work).
#
# Large `bytes` objects travel beside the pickle instead, which refers to
# them by persistent ids. Inside a pickle, such bytes would be copied into
# the pickle (whose output buffer grows as it goes), into a GBytes, by the
# C layer into a memfd, out of that memfd's mapping, and out of the pickle.
# Beside it:
#
#   - A call's large bytes go into one sealed memfd that the parent fills
#     with write() (no page faults: the kernel allocates and fills the
#     pages) and passes with the task (ProcExecutor.submit_full's fd list);
#     the GVariant is a `(ayat)`: the pickle and the buffers' sizes. The
#     worker reads each buffer with pread() straight into the `bytes` object
#     it hands to the task. One copy on each side.
#   - A result's large bytes go the other way the same way: into one sealed
#     memfd that the worker sends as the task's result fd list
#     (ProcTask.set_result_fd_list); the outcome stays an `ay`: the pickled
#     list of the buffers' sizes, the pickle, then the kind byte
#     RESULT_WITH_BUFFERS. The parent reads each buffer with pread() into
#     the `bytes` object that Future.result() returns.
#
# When: if an argument, a keyword argument's value, the result, or an item
# of a tuple or list result is a bytes object of at least OOB_MIN bytes;
# then every bytes object that large, anywhere in the call or outcome,
# travels beside the pickle. Looking deeper on every task would cost a
# Python call per pickled object (persistent_id), where this check is a
# glance at a few objects. Otherwise large objects travel inside the
# pickle, as before: correct, with more copies.

import fcntl
import io
import os
import pickle

from ._gi import GLib, T_AY

__all__ = ['INIT_TASK', 'CALL_TASK', 'CALL_PROGRESS_TASK', 'CALL_BUFFERS_TASK',
           'CALL_PROGRESS_BUFFERS_TASK', 'OOB_MIN', 'RESULT_WITH_BUFFERS',
           'has_big_bytes', 'big_items', 'call_with_buffers', 'load_call_with_buffers',
           'result_with_buffers', 'load_result_with_buffers']

# The tasks of the worker program (procexec._worker). A call's task says
# how its arguments travel, `(ay)` or `(ayat)` and a memfd, so that the
# worker need not look at their type; and whether the parent listens for
# progress reports.
INIT_TASK = 'procexec-py-init'
CALL_TASK = 'procexec-py-call'
CALL_PROGRESS_TASK = 'procexec-py-call-progress'
CALL_BUFFERS_TASK = 'procexec-py-call-buffers'
CALL_PROGRESS_BUFFERS_TASK = 'procexec-py-call-progress-buffers'

# Below this, a bytes object goes inside the pickle: a memfd or a
# pread() costs more than copying that much. It is also the size above
# which the C layer moves a payload through a memfd.
OOB_MIN = 64 * 1024

# The kind byte (see _worker) of a result whose large bytes came in the
# task's result fd list.
RESULT_WITH_BUFFERS = 3

_new_from_bytes = GLib.Variant.new_from_bytes
_Bytes = GLib.Bytes.new
_new_tuple = GLib.Variant.new_tuple
_new_array = GLib.Variant.new_array
_new_uint64 = GLib.Variant.new_uint64
_T_T = GLib.VariantType.new('t')


def has_big_bytes(items):
    """Whether any of @items is a bytes object of at least OOB_MIN bytes."""
    for x in items:
        if type(x) is bytes and len(x) >= OOB_MIN:
            return True
    return False


def big_items(result):
    """Whether @result is, or is a tuple or list holding, a large bytes
    object (one that travels out of band)."""
    t = type(result)
    if t is bytes:
        return len(result) >= OOB_MIN
    if t is tuple or t is list:
        # A map chunk's result is a list of results: look at their types in
        # C first.
        return bytes in map(type, result) and has_big_bytes(result)
    return False


class _Pickler(pickle.Pickler):
    """Pickles the large bytes objects it meets as references to buffers
    kept beside the pickle. The same object met twice is one buffer, and
    one object again once unpickled, as in a plain pickle."""

    def __init__(self, file, protocol):
        super().__init__(file, protocol)
        self.buffers = []   # keeps them alive: their ids stay theirs
        self.index = {}     # id(bytes) -> its index in buffers

    def persistent_id(self, obj):
        if type(obj) is bytes and len(obj) >= OOB_MIN:
            i = self.index.get(id(obj))
            if i is None:
                i = self.index[id(obj)] = len(self.buffers)
                self.buffers.append(obj)
            return i
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, buffers):
        super().__init__(file)
        self.buffers = buffers

    def persistent_load(self, pid):
        return self.buffers[pid]


def _dumps_with_buffers(obj, protocol, suffix=b''):
    f = io.BytesIO()
    p = _Pickler(f, protocol)
    p.dump(obj)
    f.write(suffix)
    return f.getvalue(), p.buffers


def loads_with_buffers(data, buffers):
    """Unpickles what _dumps_with_buffers() pickled (ignoring what
    follows the pickle)."""
    return _Unpickler(io.BytesIO(data), buffers).load()


def call_with_buffers(fn, args, kwargs, protocol):
    """The `(ayat)` GVariant and the Gio.UnixFDList of a call whose
    arguments hold large bytes objects (see has_big_bytes()), or None if
    no memfd is to be had (out of memory, or of file descriptors): the
    call then travels as a plain pickle."""
    head, buffers = _dumps_with_buffers((fn, args, kwargs), protocol)
    fd_list = _memfd_list('procexec-args', buffers)
    if fd_list is None:
        return None
    sizes = _new_array(_T_T, [_new_uint64(len(b)) for b in buffers])
    return _new_tuple(_new_from_bytes(T_AY, _Bytes(head), True), sizes), fd_list


def load_call_with_buffers(variant, task):
    """Unpickles the call of call_with_buffers() in the worker."""
    head = variant.get_child_value(0).get_data_as_bytes().get_data()
    sizes = variant.get_child_value(1).unpack()
    return loads_with_buffers(head, _read_buffers(task.get_fd_list(), sizes))


def _memfd_list(name, buffers):
    """A Gio.UnixFDList of one sealed memfd holding @buffers one after the
    other, or None if no memfd is to be had (out of memory, or of file
    descriptors)."""
    try:
        fd = os.memfd_create(name, os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    except OSError:
        return None
    try:
        for b in buffers:
            _write_all(fd, b)
        # The receiver reads what was sent, whatever the sender does next.
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK |
                    fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE)
        from gi.repository import Gio
        fd_list = Gio.UnixFDList.new()
        fd_list.append(fd)      # a copy of fd
    except (OSError, GLib.Error):
        return None
    finally:
        os.close(fd)
    return fd_list


def _read_buffers(fd_list, sizes):
    """The buffers of sizes @sizes that _memfd_list() put in @fd_list."""
    fd = fd_list.get(0)      # a copy, ours to close
    try:
        buffers = []
        offset = 0
        for size in sizes:
            buffers.append(_read_all(fd, size, offset))
            offset += size
    finally:
        os.close(fd)
    return buffers


def _write_all(fd, data):
    done = os.write(fd, data)
    if done < len(data):
        # Linux writes at most about 2 GiB at once.
        with memoryview(data) as view:
            while done < len(data):
                done += os.write(fd, view[done:])


def _read_all(fd, size, offset):
    data = os.pread(fd, size, offset)
    if len(data) < size:
        # Linux reads at most about 2 GiB at once.
        parts = [data]
        got = len(data)
        while got < size:
            part = os.pread(fd, size - got, offset + got)
            if not part:
                raise EOFError('procexec: the arguments memfd is too short')
            parts.append(part)
            got += len(part)
        data = b''.join(parts)
    return data


def result_with_buffers(result, protocol, task):
    """The outcome (see _worker) of a result for which big_items() is
    true, its large bytes sent in a memfd as @task's result fd list; None
    if no memfd is to be had: the result then travels as a plain pickle."""
    head, buffers = _dumps_with_buffers(result, protocol, bytes((RESULT_WITH_BUFFERS,)))
    fd_list = _memfd_list('procexec-result', buffers)
    if fd_list is None:
        return None
    task.set_result_fd_list(fd_list)
    return pickle.dumps([len(b) for b in buffers], protocol) + head


def load_result_with_buffers(data, fd_list):
    """Unpickles, in the parent, the outcome of result_with_buffers() and
    the result fd list of its task."""
    f = io.BytesIO(data)
    sizes = pickle.load(f)
    return _Unpickler(f, _read_buffers(fd_list, sizes)).load()
