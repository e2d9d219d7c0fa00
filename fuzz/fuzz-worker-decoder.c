/* fuzz-worker-decoder.c: the worker's decoder, fed bytes as if they came
 * from the parent
 *
 * The stream (and the fds of a "PXFD" container, see fuzz-common.h) goes
 * into a ProcChannel made without PROC_CHANNEL_FLAGS_PEER_IS_WORKER, and
 * each frame is read exactly as handshake(), reader_handle_frames() and
 * run_item() in proc-worker.c read it — the first frame must be HELLO, read
 * with "(u^a&aym&sv)"; RUN and RUN_CHUNK are taken apart into the task name
 * and argument tuples a task function receives, with the fds a task can
 * reach through its ProcTask — then deserialized completely. fuzz-decoder.c
 * holds the checks.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "fuzz-common.h"
#include "proc-protocol-private.h"

const char fuzz_target_name[] = "worker-decoder";

/* run_one(): what reaches a task function. */
static void
consume_task_call (FuzzConsumer *consumer,
                   const char   *name,
                   GVariant     *args)
{
  (void) g_str_hash (name);        /* the lookup in the task table */
  if (!g_variant_is_of_type (args, G_VARIANT_TYPE_TUPLE))
    return;                        /* INVALID_ARGUMENT, the task never runs */
  fuzz_consume_value (args);
}

static void
worker_consume (FuzzConsumer *consumer,
                guint8        kind,
                GVariant     *payload,
                GUnixFDList  *fds)
{
  guint64 id;

  /* handshake(): the first frame must be HELLO, and only the first. */
  if ((kind == PROC_MSG_HELLO) != (consumer->n_frames == 0))
    consumer->rejected = TRUE;

  switch ((ProcMessageKind) kind)
    {
    case PROC_MSG_HELLO:
      {
        guint32 version;
        const char **modules = NULL;
        const char *initializer = NULL;
        GVariant *initargs = NULL;

        g_variant_get (payload, "(u^a&aym&sv)", &version, &modules, &initializer, &initargs);
        if (version != PROC_PROTOCOL_VERSION)
          consumer->rejected = TRUE;
        for (guint i = 0; modules[i] != NULL; i++)
          (void) strlen (modules[i]);  /* the worker would load these paths */
        if (initializer != NULL)
          consume_task_call (consumer, initializer, initargs);
        g_variant_unref (initargs);
        g_free (modules);
      }
      break;

    case PROC_MSG_RUN:
      {
        const char *name;
        GVariant *name_v, *args, *inner;

        g_variant_get_child (payload, 0, "t", &id);
        name_v = g_variant_get_child_value (payload, 1);
        name = g_variant_get_string (name_v, NULL);
        args = g_variant_get_child_value (payload, 2);
        inner = g_variant_get_variant (args);
        consume_task_call (consumer, name, inner);
        g_variant_unref (inner);
        g_variant_unref (args);
        g_variant_unref (name_v);
      }
      break;

    case PROC_MSG_RUN_CHUNK:
      {
        const char *name;
        GVariant *args;
        gboolean boxed;
        gsize n;

        g_variant_get_child (payload, 0, "t", &id);
        g_variant_get_child (payload, 1, "&s", &name);
        g_variant_get_child (payload, 2, "v", &args);
        n = g_variant_is_of_type (args, G_VARIANT_TYPE_ARRAY) ? g_variant_n_children (args) : 0;
        boxed = proc_item_array_is_boxed (args);
        for (gsize i = 0; i < n; i++)
          {
            GVariant *inner = proc_item_array_get (args, i, boxed);

            consume_task_call (consumer, name, inner);
            g_variant_unref (inner);
          }
        g_variant_unref (args);
      }
      break;

    case PROC_MSG_CANCEL:
    case PROC_MSG_RECLAIM:
      g_variant_get (payload, "(t)", &id);
      break;

    case PROC_MSG_EXIT:
      break;

    default:
      fuzz_fail ("the worker's channel returned a %s frame", proc_message_kind_name (kind));
    }

  fuzz_consume_value (payload);
  /* A task reaches the fds of its RUN frame through proc_task_get_fd_list(). */
  fuzz_consume_fds (fds);
}

void
fuzz_target (const guint8 *data,
             gsize         size,
             FuzzOutcome  *outcome)
{
  FuzzConsumer consumer = { worker_consume, 0, FALSE };

  fuzz_decode (data, size, FALSE, &consumer, outcome);
}
