# _gi.py: the GObject-Introspection modules procexec is built on
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Procexec', '1')

from gi.repository import GLib, GObject, Procexec  # noqa: E402

__all__ = ['GLib', 'GObject', 'Procexec',
           'T_AY', 'T_TUPLE_AY',
           'variant_from_bytes', 'variant_bytes']

T_AY = GLib.VariantType.new('ay')
T_TUPLE_AY = GLib.VariantType.new('(ay)')

_new_from_bytes = GLib.Variant.new_from_bytes
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
