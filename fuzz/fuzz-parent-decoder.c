/* fuzz-parent-decoder.c: the parent's decoder, fed bytes as if they came
 * from a worker
 *
 * The stream (and the fds of a "PXFD" container, see fuzz-common.h) goes
 * into a ProcChannel made with PROC_CHANNEL_FLAGS_PEER_IS_WORKER, and each
 * frame is read exactly as worker_handle_frame() in proc-pool.c reads it —
 * the same g_variant_get() formats, proc_error_from_wire() for errors, the
 * result values taken apart as ProcMapIter and a caller of
 * proc_future_result() would — then deserialized completely (children,
 * normal form, printing). fuzz-decoder.c holds the checks.
 *
 * Built with -fsanitize=fuzzer by tools/run-fuzzers.sh, and with the replay
 * driver (fuzz-replay.c) by meson, which replays the corpus and the
 * regression inputs in the test suite.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>

#include "fuzz-common.h"
#include "proc-enums.h"
#include "proc-protocol-private.h"

const char fuzz_target_name[] = "parent-decoder";

/* What a caller does with an error that reaches a future. */
static void
consume_error (const char *domain,
               gint        code,
               const char *message)
{
  GError *error = proc_error_from_wire (domain, code, message);

  fuzz_check (error != NULL && error->message != NULL, "proc_error_from_wire() gave no error");
  (void) g_quark_to_string (error->domain);
  g_error_free (error);
}

/* The I/O thread's check and ProcMapIter's take_chunk() and
 * proc_map_iter_next() on a CHUNK_RESULT. */
static void
consume_chunk_result (GVariant *value)
{
  GVariant *results;
  gboolean failed;
  const char *domain, *message;
  gint code;
  gboolean boxed;
  gsize n;

  if (!g_variant_is_of_type (value, G_VARIANT_TYPE ("(tvbsis)")))
    return;
  g_variant_get (value, "(tvb&si&s)", NULL, &results, &failed, &domain, &code, &message);
  if (!g_variant_is_of_type (results, G_VARIANT_TYPE_ARRAY))
    {
      g_variant_unref (results);
      return;
    }
  if (failed)
    consume_error (domain, code, message);

  n = g_variant_n_children (results);
  boxed = proc_item_array_is_boxed (results);
  for (gsize i = 0; i < n; i++)
    {
      GVariant *item = proc_item_array_get (results, i, boxed);

      fuzz_consume_value (item);
      g_variant_unref (item);
    }
  g_variant_unref (results);
}

static void
parent_consume (FuzzConsumer *consumer,
                guint8        kind,
                GVariant     *payload,
                GUnixFDList  *fds)
{
  guint64 id;

  switch ((ProcMessageKind) kind)
    {
    case PROC_MSG_READY:
      {
        guint32 version;

        g_variant_get (payload, "(u)", &version);
        if (version != PROC_PROTOCOL_VERSION || consumer->n_frames > 0)
          consumer->rejected = TRUE;
      }
      break;

    case PROC_MSG_INIT_FAILED:
      {
        const char *domain, *message;
        gint code;
        char *text;

        g_variant_get (payload, "(&si&s)", &domain, &code, &message);
        /* pool_break() and the futures' errors quote the message. */
        text = g_strdup_printf ("the initializer failed in worker %d: %s", 1234, message);
        g_free (text);
      }
      break;

    case PROC_MSG_RESULT:
      {
        /* The channel took the id out and unboxed the result. */
        GVariant *result = g_variant_ref (payload);

        /* The caller of proc_future_result() gets this value. */
        fuzz_consume_value (result);
        g_variant_unref (result);
      }
      break;

    case PROC_MSG_ERROR:
      {
        const char *domain, *message;
        gint code;

        g_variant_get (payload, "(t&si&s)", &id, &domain, &code, &message);
        consume_error (domain, code, message);
      }
      break;

    case PROC_MSG_CHUNK_RESULT:
      g_variant_get_child (payload, 0, "t", &id);
      /* The future completes with the payload itself. */
      consume_chunk_result (payload);
      break;

    case PROC_MSG_RECLAIMED:
      g_variant_get (payload, "(t)", &id);
      break;

    case PROC_MSG_PROGRESS:
      {
        double fraction;
        GVariant *detail = NULL;

        g_variant_get (payload, "(tdmv)", &id, &fraction, &detail);
        if (!isfinite (fraction))
          consumer->rejected = TRUE;
        else
          fraction = CLAMP (fraction, 0.0, 1.0);
        /* ::progress hands the detail to the caller. */
        fuzz_consume_value (detail);
        g_clear_pointer (&detail, g_variant_unref);
      }
      break;

    default:
      fuzz_fail ("the parent's channel returned a %s frame", proc_message_kind_name (kind));
    }

  fuzz_consume_value (payload);
  /* The parent never uses fds from a worker: proc_frame_clear() closes
   * them. Look at them anyway. */
  fuzz_consume_fds (fds);
}

void
fuzz_target (const guint8 *data,
             gsize         size,
             FuzzOutcome  *outcome)
{
  FuzzConsumer consumer = { parent_consume, 0, FALSE };

  fuzz_decode (data, size, TRUE, &consumer, outcome);
}
