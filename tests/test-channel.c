/* test-channel.c: the framing layer, against GLib's own serializer
 *
 * proc_channel_queue_call() writes the payloads of RUN, RUN_CHUNK and RESULT
 * by hand; what arrives must be, byte for byte, what GLib makes of the same
 * tuple (less the id the receiver takes out of a RESULT), across the widths of GVariant's framing offsets and the memfd
 * threshold.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <sys/socket.h>

#include "proc-channel-private.h"
#include "proc-protocol-private.h"

static GVariant *
bytes_of_size (gsize size)
{
  guint8 *data = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (i * 7);
  return g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING, data, size, TRUE, g_free, data);
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
  ProcChannel *sender, *receiver;
  ProcFrame frame = { 0, };
  int sv[2];

  g_variant_ref_sink (value);
  if (name != NULL)
    expected = g_variant_ref_sink (g_variant_new ("(tsv)", id, name, value));
  else
    expected = g_variant_ref_sink (g_variant_new ("(tv)", id, value));

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
  sender = proc_channel_new (sv[0], PROC_CHANNEL_FLAGS_NONE);
  receiver = proc_channel_new (sv[1], kind >= PROC_MSG_READY ? PROC_CHANNEL_FLAGS_PEER_IS_WORKER
                                                             : PROC_CHANNEL_FLAGS_NONE);

  g_assert_true (proc_channel_queue_call (sender, kind, id, name, value, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (proc_channel_flush (sender, TRUE, &error));
  g_assert_no_error (error);

  while (!proc_channel_next (receiver, &frame, &error))
    {
      g_assert_no_error (error);
      g_assert_cmpint (proc_channel_fill (receiver, &error), >, 0);
      g_assert_no_error (error);
    }
  g_assert_cmpint (frame.kind, ==, kind);
  if (kind == PROC_MSG_RESULT)
    {
      /* The channel takes the id out of a RESULT: the rest is the `v`. */
      g_assert_cmpuint (frame.id, ==, id);
      g_clear_pointer (&expected, g_variant_unref);
      expected = g_variant_ref_sink (g_variant_new_variant (value));
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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/channel/queue-call", test_channel_queue_call);
  return g_test_run ();
}
