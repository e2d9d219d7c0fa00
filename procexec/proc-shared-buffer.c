/* proc-shared-buffer.c: memory that crosses to another process uncopied
 *
 * A shared buffer is a memfd mapped into this process. Once filled, it is
 * sealed against any change and becomes a GBytes over a read-only mapping.
 * The channel recognizes such bytes when they are the whole of a task's
 * argument or result and passes the memfd itself: the receiver maps the
 * same pages, and no byte of the payload is copied on either side.
 *
 * Recognizing them takes a registry of live regions, keyed by address;
 * a lookup is made only for payloads large enough to leave the socket.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gio/gio.h>

#include "proc-shared-buffer.h"
#include "proc-shared-buffer-private.h"

#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

/* A buffer being filled; once sealed, the same struct is the region that
 * the GBytes showing it owns. */
struct _ProcSharedBuffer {
  guint8 *data;    /* a mapping of @fd: writable, then read-only */
  gsize   size;
  int     fd;
};

G_LOCK_DEFINE_STATIC (regions);
static GHashTable *regions;   /* data → sealed ProcSharedBuffer */

static ProcSharedBuffer *
lookup_region_locked (gconstpointer data,
                      gsize         size)
{
  ProcSharedBuffer *region;

  if (regions == NULL || data == NULL)
    return NULL;
  region = g_hash_table_lookup (regions, data);
  return region != NULL && region->size == size ? region : NULL;
}

static void
set_errno_error (GError     **error,
                 int          saved_errno,
                 const char  *what,
                 gsize        size)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
               "Could not %s a shared buffer of %" G_GSIZE_FORMAT " bytes: %s",
               what, size, g_strerror (saved_errno));
}

/**
 * ProcSharedBuffer:
 *
 * Memory to fill with a large task argument or result that then crosses
 * to the other process without being copied.
 *
 * A payload made of ordinary memory is copied once into shared memory on
 * its way to a worker (or back). A shared buffer *is* shared memory (a
 * sealed memfd): fill it, turn it into a [struct@GLib.Bytes] with
 * `proc_shared_buffer_free_to_bytes()`, and use those bytes as the whole
 * of an argument or a result, as a bytestring (`ay`) or any array of
 * fixed-size elements, alone or as the only member of a tuple:
 *
 * ```c
 * g_autoptr(ProcSharedBuffer) buf = proc_shared_buffer_new (size, &error);
 * fill (proc_shared_buffer_get_data (buf), size);
 * g_autoptr(GBytes) bytes = proc_shared_buffer_free_to_bytes (g_steal_pointer (&buf), &error);
 * GVariant *array = g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, bytes, TRUE);
 * future = proc_executor_submit (executor, "checksum", g_variant_new_tuple (&array, 1), NULL);
 * ```
 *
 * The worker maps the same pages. The bytes may be sent any number of
 * times, to any number of tasks, and nobody can change them once sealed.
 * A task returns a result the same way, from a buffer it fills.
 *
 * Shared memory is worth it for payloads of more than about 64 KiB,
 * which leave the socket anyway; smaller ones travel inline.
 *
 * Bindings use [func@shared_bytes_new], which copies existing data into
 * a sealed region once.
 */

/**
 * proc_shared_buffer_new: (skip)
 * @size: the size in bytes, more than 0
 * @error: return location for a #GError
 *
 * Allocates @size bytes of shared memory, zeroed and writable.
 *
 * Returns: (transfer full) (nullable): the buffer, or %NULL with @error
 *   set if the system could not provide it
 */
ProcSharedBuffer *
proc_shared_buffer_new (gsize    size,
                        GError **error)
{
  ProcSharedBuffer *self;
  void *map;
  int fd;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (size == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "A shared buffer cannot be empty");
      return NULL;
    }

  fd = memfd_create ("procexec-shared", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0 || ftruncate (fd, size) < 0)
    {
      int saved = errno;

      if (fd >= 0)
        close (fd);
      set_errno_error (error, saved, "allocate", size);
      return NULL;
    }

  /* Mapped before any page is allocated: a size past the address space
   * fails here, cheaply. */
  map = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED)
    {
      int saved = errno;

      close (fd);
      set_errno_error (error, saved, "map", size);
      return NULL;
    }
  /* A child forked while the mapping is writable would keep it so and
   * make sealing fail: GSubprocess may fork from another thread. */
  madvise (map, size, MADV_DONTFORK);

  /* Every page now: running out of memory is an error here rather than a
   * SIGBUS while the buffer is filled, receivers refuse sparse memfds, and
   * allocating in one call then populating the mapping costs about half
   * of faulting each page in. Kernels before 5.14 lack
   * MADV_POPULATE_WRITE; their pages are mapped on first touch. */
  if (fallocate (fd, 0, 0, size) < 0)
    {
      int saved = errno;

      munmap (map, size);
      close (fd);
      set_errno_error (error, saved, "allocate", size);
      return NULL;
    }
  madvise (map, size, MADV_POPULATE_WRITE);

  self = g_new (ProcSharedBuffer, 1);
  self->data = map;
  self->size = size;
  self->fd = fd;

  return self;
}

/**
 * proc_shared_buffer_get_data: (skip)
 * @self: a shared buffer
 *
 * The buffer's memory, to fill. It stays readable at the same address in
 * the bytes that `proc_shared_buffer_free_to_bytes()` returns, but no
 * longer writable.
 *
 * Returns: (transfer none): the first of `proc_shared_buffer_get_size()`
 *   writable bytes
 */
gpointer
proc_shared_buffer_get_data (ProcSharedBuffer *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->data;
}

/**
 * proc_shared_buffer_get_size: (skip)
 * @self: a shared buffer
 *
 * Returns: the size of the buffer in bytes
 */
gsize
proc_shared_buffer_get_size (ProcSharedBuffer *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->size;
}

/**
 * proc_shared_buffer_free:
 * @self: (nullable): a shared buffer
 *
 * Frees a buffer that was not turned into bytes.
 */
void
proc_shared_buffer_free (ProcSharedBuffer *self)
{
  if (self == NULL)
    return;

  munmap (self->data, self->size);
  close (self->fd);
  g_free (self);
}

static void
shared_region_free (gpointer data)
{
  ProcSharedBuffer *region = data;

  G_LOCK (regions);
  g_hash_table_remove (regions, region->data);
  G_UNLOCK (regions);

  proc_shared_buffer_free (region);
}

/**
 * proc_shared_buffer_free_to_bytes: (skip)
 * @self: (transfer full): a shared buffer
 * @error: return location for a #GError
 *
 * Seals the buffer's contents and frees the buffer, returning its bytes.
 * Their data is at the address `proc_shared_buffer_get_data()` returned,
 * now read-only: from here on nobody, in this process or another, can
 * change them.
 *
 * Returns: (transfer full) (nullable): the bytes, or %NULL with @error
 *   set if sealing failed (the buffer is freed either way)
 */
GBytes *
proc_shared_buffer_free_to_bytes (ProcSharedBuffer  *self,
                                  GError           **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* The kernel refuses F_SEAL_WRITE while a shared mapping that could be
   * made writable exists, read-only or not: the mapping is replaced in
   * place by a private read-only one, which reads the same pages, so that
   * the address the caller may still hold stays valid. */
  if (mmap (self->data, self->size, PROT_READ, MAP_PRIVATE | MAP_FIXED, self->fd, 0) == MAP_FAILED ||
      fcntl (self->fd, F_ADD_SEALS, SEALS) < 0)
    {
      set_errno_error (error, errno, "seal", self->size);
      proc_shared_buffer_free (self);
      return NULL;
    }

  G_LOCK (regions);
  if (regions == NULL)
    regions = g_hash_table_new (NULL, NULL);
  g_hash_table_insert (regions, self->data, self);
  G_UNLOCK (regions);

  return g_bytes_new_with_free_func (self->data, self->size, shared_region_free, self);
}

/**
 * proc_shared_bytes_new:
 * @data: (array length=size) (element-type guint8): the bytes to copy
 * @size: the number of bytes, more than 0
 * @error: return location for a #GError
 *
 * Copies @data into sealed shared memory, once: after that the returned
 * bytes cross to workers uncopied however often they are sent (see
 * [struct@SharedBuffer]). This is the way for language bindings, where
 * code cannot fill a [struct@SharedBuffer] in place.
 *
 * Returns: (transfer full) (nullable): the bytes, or %NULL with @error set
 */
GBytes *
proc_shared_bytes_new (const guint8  *data,
                       gsize          size,
                       GError       **error)
{
  ProcSharedBuffer *buf;

  g_return_val_if_fail (data != NULL || size == 0, NULL);

  buf = proc_shared_buffer_new (size, error);
  if (buf == NULL)
    return NULL;
  memcpy (buf->data, data, size);
  return proc_shared_buffer_free_to_bytes (buf, error);
}

/**
 * proc_bytes_is_shared:
 * @bytes: bytes
 *
 * Whether @bytes are a whole sealed shared region, made by
 * `proc_shared_buffer_free_to_bytes()` or [func@shared_bytes_new], which
 * cross to other processes without a copy.
 *
 * Returns: %TRUE if @bytes are shared memory
 */
gboolean
proc_bytes_is_shared (GBytes *bytes)
{
  gconstpointer data;
  gsize size;
  gboolean ret;

  g_return_val_if_fail (bytes != NULL, FALSE);

  data = g_bytes_get_data (bytes, &size);
  G_LOCK (regions);
  ret = lookup_region_locked (data, size) != NULL;
  G_UNLOCK (regions);

  return ret;
}

/* A new fd for the sealed memfd whose mapping is exactly @data and @size,
 * or -1 when they are not a live shared region. The caller's reference to
 * the data keeps the region alive during the call. */
int
_proc_shared_region_dup_fd (gconstpointer data,
                            gsize         size)
{
  ProcSharedBuffer *region;
  int fd = -1;

  G_LOCK (regions);
  region = lookup_region_locked (data, size);
  if (region != NULL)
    fd = fcntl (region->fd, F_DUPFD_CLOEXEC, 3);
  G_UNLOCK (regions);

  return fd;
}
