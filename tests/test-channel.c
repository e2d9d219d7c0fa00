/* test-channel.c: the framing layer, against GLib's own serializer
 *
 * proc_channel_queue_call() writes the payloads of RUN, RUN_CHUNK and RESULT
 * by hand; what arrives must be, byte for byte, what GLib makes of the same
 * tuple (less the id the receiver takes out of a RESULT), across the
 * widths of GVariant's framing offsets and the memfd threshold. Values
 * beyond it travel in a memfd of their own, uncopied when they are a
 * shared buffer.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc-channel-private.h"
#include "proc-protocol-private.h"
#include "proc-shared-buffer.h"
#include "proc-shared-buffer-private.h"
#include "test-maps.h"

static GVariant *
bytes_of_size (gsize size)
{
  guint8 *data = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (i * 7);
  return g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING, data, size, TRUE, g_free, data);
}

/* A socketpair: the parent's end, and the worker's. */
static void
channel_pair (ProcChannel **parent,
              ProcChannel **worker)
{
  int sv[2];

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
  *parent = proc_channel_new (sv[0], PROC_CHANNEL_FLAGS_PEER_IS_WORKER);
  *worker = proc_channel_new (sv[1], PROC_CHANNEL_FLAGS_NONE);
}

/* Reads until a whole frame has arrived. */
static gboolean
next_frame (ProcChannel  *receiver,
            ProcFrame    *frame,
            GError      **error)
{
  while (!proc_channel_next (receiver, frame, error))
    {
      if (*error != NULL || proc_channel_fill (receiver, error) <= 0)
        return FALSE;
    }
  return TRUE;
}

/* Queues (id, name, value) on one end and checks the frame at the other. */
static void
check_call (guint8      kind,
            guint64     id,
            const char *name,
            GVariant   *value)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) expected = NULL;
  ProcChannel *parent, *worker, *sender, *receiver;
  ProcFrame frame = { 0, };

  g_variant_ref_sink (value);
  if (name != NULL)
    expected = g_variant_ref_sink (g_variant_new ("(tsv)", id, name, value));
  else
    expected = g_variant_ref_sink (g_variant_new ("(tv)", id, value));

  channel_pair (&parent, &worker);
  sender = kind >= PROC_MSG_READY ? worker : parent;
  receiver = kind >= PROC_MSG_READY ? parent : worker;

  g_assert_true (proc_channel_queue_call (sender, kind, id, name, value, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (proc_channel_flush (sender, TRUE, &error));
  g_assert_no_error (error);

  g_assert_true (next_frame (receiver, &frame, &error));
  g_assert_no_error (error);
  g_assert_cmpint (frame.kind, ==, kind);
  if (kind == PROC_MSG_RESULT)
    {
      /* The channel takes the id out of a RESULT and unboxes its value. */
      g_assert_cmpuint (frame.id, ==, id);
      g_clear_pointer (&expected, g_variant_unref);
      expected = g_variant_ref_sink (value);
    }
  g_assert_true (g_variant_is_normal_form (frame.payload));
  g_assert_cmpvariant (frame.payload, expected);
  g_assert_cmpmem (g_variant_get_data (frame.payload), g_variant_get_size (frame.payload),
                   g_variant_get_data (expected), g_variant_get_size (expected));

  proc_frame_clear (&frame);
  proc_channel_free (sender);
  proc_channel_free (receiver);
  g_variant_unref (value);
}

static void
test_channel_queue_call (void)
{
  /* Sizes on both sides of 255 and 65535 bytes (the widths of a framing
   * offset) and of the memfd threshold. */
  const gsize name_lengths[] = { 0, 1, 7, 8, 230, 260, 65000, 66000 };
  const gsize value_sizes[] = { 0, 1, 200, 250, 300, 65400, 65600, PROC_CHANNEL_MEMFD_THRESHOLD + 10 };
  guint64 id = 1;

  for (gsize n = 0; n < G_N_ELEMENTS (name_lengths); n++)
    for (gsize v = 0; v < G_N_ELEMENTS (value_sizes); v++)
      {
        g_autofree char *name = g_strnfill (name_lengths[n], 'n');

        check_call (PROC_MSG_RUN, id++ * 0x0102030405060708ULL, name, bytes_of_size (value_sizes[v]));
        if (n == 0)
          check_call (PROC_MSG_RESULT, id++, NULL, bytes_of_size (value_sizes[v]));
      }

  /* Large arguments as tasks get them: a tuple around one array, nested,
   * and around members whose bytes are not the tuple's. */
  {
    GVariant *big = bytes_of_size (PROC_CHANNEL_MEMFD_THRESHOLD + 100);
    GVariant *inner;

    check_call (PROC_MSG_RUN, 6, "len", g_variant_new_tuple (&big, 1));
    big = bytes_of_size (PROC_CHANNEL_MEMFD_THRESHOLD + 3);
    inner = g_variant_new_tuple (&big, 1);
    check_call (PROC_MSG_RESULT, 7, NULL, g_variant_new_tuple (&inner, 1));
    check_call (PROC_MSG_RUN, 8, "pair",
                g_variant_new ("(@ayu)", bytes_of_size (PROC_CHANNEL_MEMFD_THRESHOLD + 5), 9));
    check_call (PROC_MSG_RUN, 9, "fixed", g_variant_new ("((uy))", 1, 2));
  }

  /* Values of other shapes and alignments. */
  check_call (PROC_MSG_RUN, 3, "echo", g_variant_new ("(i)", -5));
  check_call (PROC_MSG_RUN, 3, "echo", g_variant_new ("()"));
  check_call (PROC_MSG_RUN, 3, "echo", g_variant_new_parsed ("(@a(sv) [('x', <1.5>)], 'y', byte 2)"));
  check_call (PROC_MSG_RUN_CHUNK, 4, "add", g_variant_new_parsed ("[(1, 2), (3, 4)]"));
  check_call (PROC_MSG_RESULT, 5, NULL, g_variant_new ("(t)", G_MAXUINT64));
  check_call (PROC_MSG_RESULT, 5, NULL, g_variant_new_parsed ("<<(uint16 1, 'deep')>>"));
}

static guint64
fd_inode (int fd)
{
  struct stat st;

  g_assert_no_errno (fstat (fd, &st));
  return st.st_ino;
}

/* Two values of one type have the same serialized bytes. */
static void
assert_same_bytes (GVariant *value,
                   GVariant *expected)
{
  g_variant_ref_sink (expected);
  g_assert_cmpstr (g_variant_get_type_string (value), ==, g_variant_get_type_string (expected));
  g_assert_cmpmem (g_variant_get_data (value), g_variant_get_size (value),
                   g_variant_get_data (expected), g_variant_get_size (expected));
  g_variant_unref (expected);
}

/* A value made of a shared region crosses as that region's memfd: the
 * receiver maps the very pages the sender filled. Any other large value
 * goes through a new memfd, which the same check tells apart. */
static void
test_channel_shared_value (void)
{
  const gsize size = 1024 * 1024 + 3;
  g_autoptr(GError) error = NULL;
  g_autoptr(ProcSharedBuffer) buf = proc_shared_buffer_new (size, &error);
  g_autoptr(GBytes) bytes = NULL;
  ProcChannel *parent, *worker;
  ProcFrame frame = { 0, };
  guint64 shared_inode;
  int fd;

  g_assert_no_error (error);
  for (gsize i = 0; i < size; i++)
    ((guint8 *) proc_shared_buffer_get_data (buf))[i] = (guint8) (i * 13);
  bytes = proc_shared_buffer_free_to_bytes (g_steal_pointer (&buf), &error);
  g_assert_no_error (error);
  g_assert_true (proc_bytes_is_shared (bytes));

  fd = _proc_shared_region_dup_fd (g_bytes_get_data (bytes, NULL), size);
  g_assert_cmpint (fd, >=, 0);
  shared_inode = fd_inode (fd);
  close (fd);

  channel_pair (&parent, &worker);

  for (guint shared = 0; shared < 2; shared++)
    {
      GVariant *array = shared ? g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, bytes, TRUE)
                               : bytes_of_size (size);
      g_autoptr(GVariant) args = g_variant_ref_sink (g_variant_new_tuple (&array, 1));
      g_autoptr(GVariant) got_args = NULL, got_array = NULL;

      /* Parent to worker, as a task's arguments. */
      g_assert_true (proc_channel_queue_call (parent, PROC_MSG_RUN, 1, "len", args, NULL, &error));
      g_assert_no_error (error);
      g_assert_true (proc_channel_flush (parent, TRUE, &error));
      g_assert_true (next_frame (worker, &frame, &error));
      g_assert_no_error (error);
      g_assert_cmpint (frame.kind, ==, PROC_MSG_RUN);
      g_variant_get (frame.payload, "(ts@v)", NULL, NULL, &got_args);
      {
        g_autoptr(GVariant) inner = g_variant_get_variant (got_args);
        got_array = g_variant_get_child_value (inner, 0);
      }
      if (shared)
        g_assert_cmpuint (test_mapping_inode (g_variant_get_data (got_array), NULL), ==, shared_inode);
      else
        g_assert_cmpuint (test_mapping_inode (g_variant_get_data (got_array), NULL), !=, shared_inode);
      /* (g_assert_cmpvariant() would print both megabytes to compare.) */
      assert_same_bytes (frame.payload, g_variant_new ("(tsv)", (guint64) 1, "len", args));
      proc_frame_clear (&frame);

      /* And back, as a result, with fds of its own after the memfd. */
      {
        g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
        int pipe_fds[2];

        g_assert_no_errno (pipe (pipe_fds));
        g_assert_cmpint (g_unix_fd_list_append (fds, pipe_fds[0], &error), ==, 0);
        g_assert_cmpint (g_unix_fd_list_append (fds, pipe_fds[1], &error), ==, 1);
        g_assert_true (proc_channel_queue_call (worker, PROC_MSG_RESULT, 2, NULL, args, fds, &error));
        g_assert_no_error (error);
        g_assert_true (proc_channel_flush (worker, TRUE, &error));
        g_assert_true (next_frame (parent, &frame, &error));
        g_assert_no_error (error);
        g_assert_cmpint (frame.kind, ==, PROC_MSG_RESULT);
        g_assert_cmpuint (frame.id, ==, 2);
        assert_same_bytes (frame.payload, args);
        g_assert_nonnull (frame.fds);
        g_assert_cmpint (g_unix_fd_list_get_length (frame.fds), ==, 2);
        g_assert_cmpuint (fd_inode (g_unix_fd_list_peek_fds (frame.fds, NULL)[0]), ==, fd_inode (pipe_fds[0]));
        g_assert_cmpuint (fd_inode (g_unix_fd_list_peek_fds (frame.fds, NULL)[1]), ==, fd_inode (pipe_fds[1]));
        close (pipe_fds[0]);
        close (pipe_fds[1]);
        proc_frame_clear (&frame);
      }
    }

  proc_channel_free (parent);
  proc_channel_free (worker);
}

/* Feeds @channel one frame as a peer would write it: the 8-byte header
 * (@len, @kind, @flags, @n_fds), then the @len bytes of @payload padded to
 * 8, with @fds (taken) arriving alongside. */
static void
feed_frame (ProcChannel *channel,
            guint8       kind,
            guint8       flags,
            const void  *payload,
            gsize        len,
            int         *fds,
            guint        n_fds)
{
  g_autofree guint8 *buf = g_malloc0 (8 + len + 8);
  guint32 le_len = GUINT32_TO_LE (len);
  guint16 le_fds = GUINT16_TO_LE (n_fds);

  memcpy (buf, &le_len, 4);
  buf[4] = kind;
  buf[5] = flags;
  memcpy (buf + 6, &le_fds, 2);
  if (len > 0)
    memcpy (buf + 8, payload, len);
  proc_channel_feed (channel, buf, 8 + ((len + 7) & ~7), fds, n_fds);
}

/* Feeds the parent's end one frame of @kind with @flags whose inline
 * payload is @head and whose first fd is @memfd (taken); returns the
 * error it raises. */
static GError *
feed_value_frame (guint8      kind,
                  guint8      flags,
                  GVariant   *head,
                  int         memfd)
{
  ProcChannel *parent = proc_channel_new (-1, PROC_CHANNEL_FLAGS_PEER_IS_WORKER);
  GError *error = NULL;
  ProcFrame frame = { 0, };

  g_variant_ref_sink (head);
  feed_frame (parent, kind, flags, g_variant_get_data (head), g_variant_get_size (head), &memfd, 1);

  g_assert_false (proc_channel_next (parent, &frame, &error));
  g_assert_nonnull (error);
  g_variant_unref (head);
  proc_channel_free (parent);
  return error;
}

static int
sealed_memfd (gsize size,
              gboolean seal)
{
  int fd = memfd_create ("test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  g_autofree guint8 *zeros = g_malloc0 (size);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, zeros, size), ==, (gssize) size);
  if (seal)
    g_assert_no_errno (fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE));
  return fd;
}

/* A worker's frame whose value is in a memfd is checked as strictly as
 * any other: a head that is not a call's, a type that is not one complete
 * type, a memfd that could still change. */
static void
test_channel_value_fd_hostile (void)
{
  GError *error;

  error = feed_value_frame (PROC_MSG_PROGRESS, PROC_FRAME_FLAG_VALUE_FD,
                            g_variant_new ("(ts)", (guint64) 1, "ay"), sealed_memfd (100, TRUE));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "Malformed"));
  g_error_free (error);

  error = feed_value_frame (PROC_MSG_RESULT, PROC_FRAME_FLAG_VALUE_FD | PROC_FRAME_FLAG_MEMFD,
                            g_variant_new ("(ts)", (guint64) 1, "ay"), sealed_memfd (100, TRUE));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_error_free (error);

  {
    /* Not one type, not a type, or not a definite one. */
    const char *bad_types[] = { "ii", "", "a", "m*", "r", "a?", "(s" };

    for (guint i = 0; i < G_N_ELEMENTS (bad_types); i++)
      {
        error = feed_value_frame (PROC_MSG_RESULT, PROC_FRAME_FLAG_VALUE_FD,
                                  g_variant_new ("(ts)", (guint64) 1, bad_types[i]),
                                  sealed_memfd (100, TRUE));
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
        g_assert_nonnull (strstr (error->message, "malformed head"));
        g_error_free (error);
      }
  }

  error = feed_value_frame (PROC_MSG_RESULT, PROC_FRAME_FLAG_VALUE_FD,
                            g_variant_new ("(ts)", (guint64) 1, "ay"), sealed_memfd (100, FALSE));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "not sealed"));
  g_error_free (error);
}

/* Shared buffers: bad sizes are errors, and sealed bytes cannot change. */
static void
test_channel_shared_buffer_api (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ProcSharedBuffer) empty = proc_shared_buffer_new (0, &error);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GBytes) plain = g_bytes_new ("abc", 3);
  int fd;

  g_assert_null (empty);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Past the address space: an error before any page is allocated. */
  g_assert_null (proc_shared_buffer_new (G_MAXSIZE / 2, &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == G_IO_ERROR);
  g_clear_error (&error);

  bytes = proc_shared_bytes_new ((const guint8 *) "hello", 5, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), "hello", 5);
  g_assert_true (proc_bytes_is_shared (bytes));
  g_assert_false (proc_bytes_is_shared (plain));

  /* Every way of changing a sealed region fails. */
  fd = _proc_shared_region_dup_fd (g_bytes_get_data (bytes, NULL), 5);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, "x", 1), ==, -1);
  g_assert_cmpint (ftruncate (fd, 1), ==, -1);
  g_assert_true (mmap (NULL, 5, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED);
  g_assert_cmpint (fcntl (fd, F_GET_SEALS) & F_SEAL_WRITE, !=, 0);
  close (fd);

  /* A region is found only whole, and only while alive. */
  g_assert_cmpint (_proc_shared_region_dup_fd (g_bytes_get_data (bytes, NULL), 4), ==, -1);
}

/* Feeds the parent's end a RESULT frame whose payload is the @len bytes
 * of @payload; returns the frame's result, or NULL with @error set. */
static GVariant *
feed_result (const void  *payload,
             gsize        len,
             GError     **error)
{
  ProcChannel *parent = proc_channel_new (-1, PROC_CHANNEL_FLAGS_PEER_IS_WORKER);
  ProcFrame frame = { 0, };
  GVariant *result = NULL;

  feed_frame (parent, PROC_MSG_RESULT, 0, payload, len, NULL, 0);
  if (proc_channel_next (parent, &frame, error))
    {
      g_assert_cmpuint (frame.id, ==, 0x0807060504030201);
      result = g_variant_ref (frame.payload);
      proc_frame_clear (&frame);
    }
  proc_channel_free (parent);
  return result;
}

/* A RESULT is (t id, v result), and the channel takes the `v` apart itself:
 * it must refuse what GVariant would, and accept what it would. */
static void
test_channel_result_hostile (void)
{
#define ID "\x01\x02\x03\x04\x05\x06\x07\x08"
  static const struct {
    const char *bytes;
    gsize       len;
    const char *error;  /* NULL: accepted */
    const char *value;
  } cases[] = {
    { ID "\x05\0\0\0\0i", 14, NULL, "5" },
    { ID "\0\0()", 12, NULL, "()" },  /* the unit is one zero byte */
    { ID "abc\0s", 14 - 1, "not in GVariant normal form", NULL },  /* a string without its NUL */
    { ID "abc\0\0s", 14, NULL, "'abc'" },
    { ID "\x02\0b", 11, "not in GVariant normal form", NULL },  /* a boolean that is 2 */
    { ID "\x05\0\0\0i", 13, "not in GVariant normal form", NULL },  /* an int32 of 3 bytes */
    { ID "", 8, "no valid type", NULL },
    { ID "abc", 11, "no valid type", NULL },
    { ID "\x05\0", 10, "no valid type", NULL },
    { ID "\x05\0ii", 12, "no valid type", NULL },
    { ID "\x05\0*", 11, "no valid type", NULL },
    { ID "\x05\0a", 11, "no valid type", NULL },
    { ID "\x05\0(i", 12, "no valid type", NULL },
    { "\x01\x02\x03", 3, "too short", NULL },
  };
#undef ID

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) result = feed_result (cases[i].bytes, cases[i].len, &error);
      g_autoptr(GBytes) bytes = g_bytes_new (cases[i].bytes, cases[i].len);
      g_autoptr(GVariant) as_glib = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE ("(tv)"), bytes, FALSE));

      /* GVariant is the judge of what is in normal form. */
      g_assert_cmpint (g_variant_is_normal_form (as_glib), ==, cases[i].error == NULL);

      if (cases[i].error == NULL)
        {
          g_autoptr(GVariant) expected = g_variant_ref_sink (g_variant_new_parsed (cases[i].value));

          if (error != NULL)
            g_error ("case %u: %s", i, error->message);
          g_assert_cmpvariant (result, expected);
        }
      else
        {
          g_assert_null (result);
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
          if (strstr (error->message, cases[i].error) == NULL)
            g_error ("case %u: “%s” does not say “%s”", i, error->message, cases[i].error);
        }
    }
}

/* Feeds the worker's end the RUN frame @payload and checks the id, name
 * and value it takes out against GVariant's own reading of @payload. */
static void
check_run_fields (const guint8 *payload,
                  gsize         len)
{
  ProcChannel *worker = proc_channel_new (-1, PROC_CHANNEL_FLAGS_NONE);
  g_autoptr(GError) error = NULL;
  ProcFrame frame = { 0, };
  g_autoptr(GBytes) bytes = g_bytes_new (payload, len);
  g_autoptr(GVariant) as_glib = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE ("(tsv)"), bytes, FALSE));

  feed_frame (worker, PROC_MSG_RUN, 0, payload, len, NULL, 0);
  g_assert_true (proc_channel_next (worker, &frame, &error));
  g_assert_no_error (error);
  g_assert_nonnull (frame.name);
  g_assert_nonnull (frame.value);

  /* An honest parent's frames are in normal form: then the fields are
   * exactly GVariant's. Other bytes only have to be read safely. */
  if (g_variant_is_normal_form (as_glib))
    {
      g_autoptr(GVariant) value = NULL;
      const char *name;
      guint64 id;

      g_variant_get (as_glib, "(t&sv)", &id, &name, &value);
      g_assert_cmpuint (frame.id, ==, id);
      g_assert_cmpstr (frame.name, ==, name);
      g_assert_cmpvariant (frame.value, value);
    }
  proc_frame_clear (&frame);
  proc_channel_free (worker);
}

/* A RUN frame's fields are found by hand: they must be GVariant's for any
 * frame a parent makes, and reading garbage must be safe. */
static void
test_channel_run_fields (void)
{
  const char *values[] = { "(int32 5,)", "()", "('a string', [1, 2, 3])", "(<<byte 7>>, @mi nothing)",
                           "([(1, 'x')], {'k': <1.5>})" };

  for (guint v = 0; v < G_N_ELEMENTS (values); v++)
    for (guint name_len = 1; name_len < 300; name_len += 37)
      {
        g_autofree char *name = g_strnfill (name_len, 'n');
        g_autoptr(GVariant) payload = g_variant_ref_sink (g_variant_new ("(tsv)", (guint64) 0x1122334455667788 + v,
                                                                         name, g_variant_new_parsed (values[v])));
        gsize len = g_variant_get_size (payload);
        g_autofree guint8 *bytes = g_memdup2 (g_variant_get_data (payload), len);

        check_run_fields (bytes, len);
        /* Every byte flipped in turn, and the frame cut short. */
        for (gsize i = 0; i < len; i++)
          {
            bytes[i] ^= 0xa5;
            check_run_fields (bytes, len);
            bytes[i] ^= 0xa5;
          }
        for (gsize cut = 0; cut < len; cut += 3)
          check_run_fields (bytes, cut);
      }
}

/* A chunk's results, collected one by one, make the very array
 * proc_item_array_new() makes of them, byte for byte, whether they share
 * a fixed-size type (laid end to end) or not. */
static void
test_channel_item_array_builder (void)
{
  /* Each item boxed, so that one list may hold items of any types. */
  const char *sequences[] = {
    "[<(1, true, 2.5)>, <(-2, false, 0.0)>, <(3, true, -1.0)>]",  /* one fixed-size type, padded */
    "[<(1,)>, <(2,)>, <('three',)>, <(4,)>]",                    /* fixed, then not */
    "[<(1,)>, <(byte 2,)>, <(3,)>]",                             /* two fixed-size types */
    "[<('a',)>, <('b',)>]",                                      /* one type, not fixed */
    "[<@() ()>, <@() ()>, <@() ()>]",                            /* units: one byte each */
    "[<<1>>, <<'x'>>]",                                          /* items that are variants */
    "[<uint64 7>]",
    "@av []",                                                    /* nothing */
  };

  for (guint i = 0; i < G_N_ELEMENTS (sequences); i++)
    {
      g_autoptr(GVariant) list = g_variant_ref_sink (g_variant_new_parsed (sequences[i]));
      gsize n = g_variant_n_children (list);
      g_autofree GVariant **items = g_new0 (GVariant *, n + 1);
      g_autoptr(GVariant) expected = NULL, got = NULL;
      ProcItemArrayBuilder builder;

      proc_item_array_builder_init (&builder);
      for (gsize j = 0; j < n; j++)
        {
          g_variant_get_child (list, j, "v", &items[j]);
          proc_item_array_builder_add (&builder, g_variant_ref (items[j]));
        }
      expected = g_variant_ref_sink (proc_item_array_new (items, n));
      got = g_variant_ref_sink (proc_item_array_builder_end (&builder));
      g_assert_cmpvariant (got, expected);
      g_assert_cmpmem (g_variant_get_data (got), g_variant_get_size (got),
                       g_variant_get_data (expected), g_variant_get_size (expected));
      for (gsize j = 0; j < n; j++)
        g_variant_unref (items[j]);
    }
}

/* The frame types are type string literals cast without a check (see
 * PROC_VARIANT_TYPE): each must be one valid, definite type. */
static void
test_channel_message_types (void)
{
  guint n_kinds = 0;

  for (guint kind = 0; kind < 256; kind++)
    {
      const GVariantType *type = proc_message_type (kind);

      if (type == NULL)
        continue;
      n_kinds++;
      g_assert_true (g_variant_type_string_is_valid ((const char *) type));
      g_assert_true (g_variant_type_is_definite (type));
      if (kind != PROC_MSG_RESULT)
        g_assert_true (g_variant_type_equal (proc_frame_payload_type (kind), type));
    }
  g_assert_cmpuint (n_kinds, ==, 13);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/channel/message-types", test_channel_message_types);
  g_test_add_func ("/channel/queue-call", test_channel_queue_call);
  g_test_add_func ("/channel/result-hostile", test_channel_result_hostile);
  g_test_add_func ("/channel/run-fields", test_channel_run_fields);
  g_test_add_func ("/channel/item-array-builder", test_channel_item_array_builder);
  g_test_add_func ("/channel/shared-value", test_channel_shared_value);
  g_test_add_func ("/channel/value-fd-hostile", test_channel_value_fd_hostile);
  g_test_add_func ("/channel/shared-buffer-api", test_channel_shared_buffer_api);
  return g_test_run ();
}
