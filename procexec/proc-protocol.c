/* proc-protocol.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "proc-enums.h"
#include "proc-protocol-private.h"

/* A worker may name error domains the parent has never seen; each new one
 * becomes a quark for the life of the process, so their number is capped. */
#define MAX_FOREIGN_DOMAINS 256

const GVariantType *
proc_message_type (guint8 kind)
{
  switch ((ProcMessageKind) kind)
    {
    case PROC_MSG_HELLO:        return PROC_VARIANT_TYPE ("(uaaymsv)");
    case PROC_MSG_RUN:          return PROC_VARIANT_TYPE ("(tsv)");
    case PROC_MSG_RUN_CHUNK:    return PROC_VARIANT_TYPE ("(tsv)");
    case PROC_MSG_CANCEL:       return PROC_VARIANT_TYPE ("(t)");
    case PROC_MSG_EXIT:         return G_VARIANT_TYPE_UNIT;
    case PROC_MSG_RECLAIM:      return PROC_VARIANT_TYPE ("(t)");
    case PROC_MSG_READY:        return PROC_VARIANT_TYPE ("(u)");
    case PROC_MSG_INIT_FAILED:  return PROC_VARIANT_TYPE ("(sis)");
    case PROC_MSG_RESULT:       return PROC_VARIANT_TYPE ("(tv)");
    case PROC_MSG_ERROR:        return PROC_VARIANT_TYPE ("(tsis)");
    case PROC_MSG_CHUNK_RESULT: return PROC_VARIANT_TYPE ("(tvbsis)");
    case PROC_MSG_PROGRESS:     return PROC_VARIANT_TYPE ("(tdmv)");
    case PROC_MSG_RECLAIMED:    return PROC_VARIANT_TYPE ("(t)");
    default:                    return NULL;
    }
}

gboolean
proc_message_kind_is_valid (guint8   kind,
                            gboolean from_worker)
{
  if (proc_message_type (kind) == NULL)
    return FALSE;
  return from_worker ? kind >= PROC_MSG_READY : kind < PROC_MSG_READY;
}

const char *
proc_message_kind_name (guint8 kind)
{
  switch ((ProcMessageKind) kind)
    {
    case PROC_MSG_HELLO:        return "HELLO";
    case PROC_MSG_RUN:          return "RUN";
    case PROC_MSG_RUN_CHUNK:    return "RUN_CHUNK";
    case PROC_MSG_CANCEL:       return "CANCEL";
    case PROC_MSG_EXIT:         return "EXIT";
    case PROC_MSG_RECLAIM:      return "RECLAIM";
    case PROC_MSG_READY:        return "READY";
    case PROC_MSG_INIT_FAILED:  return "INIT_FAILED";
    case PROC_MSG_RESULT:       return "RESULT";
    case PROC_MSG_ERROR:        return "ERROR";
    case PROC_MSG_CHUNK_RESULT: return "CHUNK_RESULT";
    case PROC_MSG_PROGRESS:     return "PROGRESS";
    case PROC_MSG_RECLAIMED:    return "RECLAIMED";
    default:                    return "unknown";
    }
}

/* Returns a new floating array of @items (which keep their references).
 * Items that are themselves variants are boxed too, so that `av` always
 * means boxed items. */
GVariant *
proc_item_array_new (GVariant **items,
                     gsize      n_items)
{
  g_autofree GVariant **boxed = NULL;
  gboolean same_type = n_items > 0 &&
                       !g_variant_is_of_type (items[0], G_VARIANT_TYPE_VARIANT);

  for (gsize i = 1; i < n_items && same_type; i++)
    same_type = g_variant_type_equal (g_variant_get_type (items[i]),
                                      g_variant_get_type (items[0]));
  if (same_type)
    return g_variant_new_array (NULL, items, n_items);

  boxed = g_new (GVariant *, n_items);
  for (gsize i = 0; i < n_items; i++)
    boxed[i] = g_variant_new_variant (items[i]);
  return g_variant_new_array (G_VARIANT_TYPE_VARIANT, boxed, n_items);
}

/* Collects the results of a chunk into what proc_item_array_new() would
 * make of them. While they all have one fixed-size type (numbers, tuples
 * of numbers: the common case) their serialized bytes are simply laid end
 * to end, which is that array's serialized form: no tree of GVariants to
 * build, serialize and free, item by item. */
void
proc_item_array_builder_init (ProcItemArrayBuilder *self)
{
  memset (self, 0, sizeof *self);
}

static void
builder_unflatten (ProcItemArrayBuilder *self)
{
  g_autoptr(GBytes) bytes = g_byte_array_free_to_bytes (g_steal_pointer (&self->flat));
  gsize item_size = self->n > 0 ? g_bytes_get_size (bytes) / self->n : 0;

  self->items = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  for (gsize i = 0; i < self->n; i++)
    {
      g_autoptr(GBytes) item_bytes = g_bytes_new_from_bytes (bytes, i * item_size, item_size);

      g_ptr_array_add (self->items,
                       g_variant_ref_sink (g_variant_new_from_bytes (self->flat_type, item_bytes, TRUE)));
    }
  g_clear_pointer (&self->flat_type, g_variant_type_free);
}

/* Adds @item, a full reference, which is taken. */
void
proc_item_array_builder_add (ProcItemArrayBuilder *self,
                             GVariant             *item)
{
  const GVariantType *type = g_variant_get_type (item);

  if (self->n == 0 && self->items == NULL && proc_type_is_fixed_size (type))
    {
      self->flat = g_byte_array_new ();
      self->flat_type = g_variant_type_copy (type);
    }
  else if (self->flat != NULL && !g_variant_type_equal (type, self->flat_type))
    builder_unflatten (self);
  else if (self->flat == NULL && self->items == NULL)
    self->items = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);

  if (self->flat != NULL)
    {
      g_byte_array_append (self->flat, g_variant_get_data (item), g_variant_get_size (item));
      g_variant_unref (item);
    }
  else
    g_ptr_array_add (self->items, item);
  self->n++;
}

/* Returns a new floating array of the items added, as
 * proc_item_array_new() makes it, and clears @self. */
GVariant *
proc_item_array_builder_end (ProcItemArrayBuilder *self)
{
  GVariant *array;

  if (self->flat != NULL)
    {
      g_autoptr(GVariantType) array_type = g_variant_type_new_array (self->flat_type);
      g_autoptr(GBytes) bytes = g_byte_array_free_to_bytes (g_steal_pointer (&self->flat));

      array = g_variant_new_from_bytes (array_type, bytes, TRUE);
      g_clear_pointer (&self->flat_type, g_variant_type_free);
    }
  else if (self->items != NULL)
    {
      array = proc_item_array_new ((GVariant **) self->items->pdata, self->items->len);
      g_clear_pointer (&self->items, g_ptr_array_unref);
    }
  else
    array = proc_item_array_new (NULL, 0);
  self->n = 0;
  return array;
}

/* Whether the items of @array are boxed: asked once per array, not once
 * per item (see proc_item_array_get()). */
gboolean
proc_item_array_is_boxed (GVariant *array)
{
  return g_variant_is_of_type (array, PROC_VARIANT_TYPE ("av"));
}

/* Item @index of an item array, unboxed when @boxed. */
GVariant *
proc_item_array_get (GVariant *array,
                     gsize     index,
                     gboolean  boxed)
{
  GVariant *item = g_variant_get_child_value (array, index);

  if (boxed)
    {
      GVariant *inner = g_variant_get_variant (item);
      g_variant_unref (item);
      item = inner;
    }
  return item;
}

/* Whether every value of @type has the same size: then a run of items of
 * an array of @type is a slice of its bytes. */
gboolean
proc_type_is_fixed_size (const GVariantType *type)
{
  const char *s = (const char *) type;
  gsize len = g_variant_type_get_string_length (type);

  for (gsize i = 0; i < len; i++)
    if (strchr ("bynqiuxthd(){}", s[i]) == NULL)
      return FALSE;
  return TRUE;
}

/* Strings on the wire are GVariant strings, which must be UTF-8; a task
 * may set any bytes as its message (a file name, say). */
void
proc_error_to_wire (const GError  *error,
                    char         **domain,
                    gint          *code,
                    char         **message)
{
  *domain = g_utf8_make_valid (g_quark_to_string (error->domain), -1);
  *code = error->code;
  *message = g_utf8_make_valid (error->message ? error->message : "", -1);
}

GError *
proc_error_from_wire (const char *domain,
                      gint        code,
                      const char *message)
{
  static gint n_foreign;
  GQuark quark;

  quark = g_quark_try_string (domain);
  if (quark == 0 && *domain != '\0' &&
      g_atomic_int_add (&n_foreign, 1) < MAX_FOREIGN_DOMAINS)
    quark = g_quark_from_string (domain);

  if (quark == 0)
    return g_error_new (PROC_ERROR, PROC_ERROR_FAILED, "%s (error domain %s, code %d)",
                        message, domain, code);

  return g_error_new_literal (quark, code, message);
}
