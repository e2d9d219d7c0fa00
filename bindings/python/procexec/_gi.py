# _gi.py: the GObject-Introspection modules procexec is built on
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import ctypes

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Procexec', '1')

from gi.repository import GLib, GObject, Procexec  # noqa: E402

__all__ = ['GLib', 'GObject', 'Procexec',
           'T_AY', 'T_TUPLE_AY',
           'variant_from_bytes', 'variant_bytes', 'ay_variant']

T_AY = GLib.VariantType.new('ay')
T_TUPLE_AY = GLib.VariantType.new('(ay)')
_T_Y = GLib.VariantType.new('y')

_new_from_bytes = GLib.Variant.new_from_bytes
_new_fixed_array = GLib.Variant.new_fixed_array
_Bytes = GLib.Bytes.new


def variant_from_bytes(vtype, data):
    """A GVariant of type @vtype whose serialized form is @data.

    The serialized form of `ay` and of `(ay)` is the bytes themselves, so
    this is one copy and no per-byte work, unlike `GLib.Variant('ay', data)`.
    """
    return _new_from_bytes(vtype, _Bytes(data), True)


def variant_bytes(variant):
    """The serialized form of @variant, as bytes."""
    return variant.get_data_as_bytes().get_data()


def _bytes_offset():
    # Where a bytes object's data starts, from its id(): fixed in CPython.
    probe = b'procexec'
    offset = ctypes.cast(ctypes.c_char_p(probe), ctypes.c_void_p).value - id(probe)
    v = _new_fixed_array(_T_Y, id(probe) + offset, len(probe), 1)
    return offset if variant_bytes(v) == probe else None


_BYTES_OFFSET = _bytes_offset()


def ay_variant(data):
    """variant_from_bytes(T_AY, @data) for a bytes object, in one GI call
    and one wrapper instead of two: g_variant_new_fixed_array() copies the
    bytes from their address."""
    if _BYTES_OFFSET is None or type(data) is not bytes:
        return _new_from_bytes(T_AY, _Bytes(data), True)
    return _new_fixed_array(_T_Y, id(data) + _BYTES_OFFSET, len(data), 1)
