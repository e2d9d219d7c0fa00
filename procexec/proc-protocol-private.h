/* proc-protocol-private.h: the messages between an executor and its workers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define PROC_PROTOCOL_VERSION 5

/* The GVariantType of a type string literal. G_VARIANT_TYPE() checks its
 * string at every call, a few hundred instructions, and the frame types
 * are looked up several times per frame; tests/test-channel.c checks each
 * of these literals once instead. */
#define PROC_VARIANT_TYPE(literal) ((const GVariantType *) ("" literal ""))

/* The error of a call whose arguments are not a tuple (%s: the task's
 * name, then the arguments' type), from submit() or from a worker running
 * a chunk of a map alike. */
#define PROC_ARGS_NOT_TUPLE_MESSAGE "The arguments of task “%s” must be a tuple, not “%s”"

/* The error of a task run by map() that sets a result fd list (%s: its
 * name); a map has no way to hand fds over with each value. */
#define PROC_MAP_RESULT_FDS_MESSAGE "Task “%s” set a result fd list, which tasks run by map() cannot send"

/* Environment variable naming the channel fd of a worker process. */
#define PROC_CHANNEL_FD_ENV "PROCEXEC_CHANNEL_FD"
#define PROC_CHANNEL_FD     3

/* The result log: a memfd of PROC_RESULT_LOG_SIZE bytes, sealed against
 * resizing, that the parent gives a worker with HELLO. A worker may hold
 * back the result of a short task, to write it together with the next
 * ones, only while a copy of its frame is in the log: if the worker dies
 * before writing it, the parent reads it there. The log is a
 * ProcResultLogHeader followed by whole frames; the worker raises @length
 * (atomically, after the frame's bytes) for each frame it holds back, and
 * sets it to 0 once they are written to the channel (see proc-worker.c
 * for when it keeps them a little longer). A frame can then be in both
 * places: the parent takes from the log only the results of tasks it
 * still waits for. */
#define PROC_RESULT_LOG_SIZE (16 * 1024)

typedef struct {
  guint32 length;    /* bytes of frames after the header */
  guint32 reserved;
} ProcResultLogHeader;

/* Every payload is a GVariant of a fixed type per kind. */
typedef enum {
  /* parent → worker */
  PROC_MSG_HELLO        = 1,   /* (u version, aay module paths, ms initializer, v initargs),
                                   with the result log's memfd when the channel passes fds */
  PROC_MSG_RUN          = 2,   /* (t id, s task, v args)                              */
  PROC_MSG_RUN_CHUNK    = 3,   /* (t id, s task, v items: an array of tuples, or av)  */
  PROC_MSG_CANCEL       = 4,   /* (t id)                                               */
  PROC_MSG_EXIT         = 5,   /* ()  finish what was sent, then exit                  */
  PROC_MSG_RECLAIM      = 6,   /* (t id)  give the task back if it has not started     */

  /* worker → parent */
  PROC_MSG_READY        = 16,  /* (u version)                                          */
  PROC_MSG_INIT_FAILED  = 17,  /* (s domain, i code, s message)                        */
  PROC_MSG_RESULT       = 18,  /* (t id, v result)                                     */
  PROC_MSG_ERROR        = 19,  /* (t id, s domain, i code, s message)                  */
  PROC_MSG_CHUNK_RESULT = 20,  /* (t id, v results: an array, av when their types differ,
                                   b failed, s domain, i code, s message) */
  PROC_MSG_PROGRESS     = 21,  /* (t id, d fraction, mv detail)                        */
  PROC_MSG_RECLAIMED    = 22,  /* (t id)  the task was dropped unstarted                */
} ProcMessageKind;

const GVariantType *proc_message_type          (guint8        kind);
gboolean            proc_message_kind_is_valid (guint8        kind,
                                                gboolean      from_worker);
const char         *proc_message_kind_name     (guint8        kind);

/* Chunks of map items and their results travel as one array: `aT` when
 * every item has the type T (not `v`), so that no item is boxed, else
 * `av` of boxed items. */
GVariant           *proc_item_array_new        (GVariant    **items,
                                                gsize         n_items);
gboolean            proc_item_array_is_boxed   (GVariant     *array);

typedef struct {
  GByteArray   *flat;       /* the items' bytes, while they share a fixed-size type */
  GVariantType *flat_type;
  GPtrArray    *items;      /* the items, otherwise */
  gsize         n;
} ProcItemArrayBuilder;

void                proc_item_array_builder_init  (ProcItemArrayBuilder *self);
void                proc_item_array_builder_add   (ProcItemArrayBuilder *self,
                                                   GVariant             *item);
GVariant           *proc_item_array_builder_end   (ProcItemArrayBuilder *self);
GVariant           *proc_item_array_get        (GVariant     *array,
                                                gsize         index,
                                                gboolean      boxed);
gboolean            proc_type_is_fixed_size    (const GVariantType *type);

/* Errors travel as (domain, code, message); these keep the domain intact
 * without letting a hostile worker intern an unbounded number of quarks. */
void                proc_error_to_wire         (const GError *error,
                                                char        **domain,
                                                gint         *code,
                                                char        **message);
GError             *proc_error_from_wire       (const char   *domain,
                                                gint          code,
                                                const char   *message);

G_END_DECLS
