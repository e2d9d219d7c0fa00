/* fuzz-decoder.c: one input through a ProcChannel, with every check
 *
 * fuzz_decode() does with an input what the parent's I/O thread (or the
 * worker's reader thread) does with bytes from its peer:
 *
 *  1. The stream and its fds go into a fresh ProcChannel with
 *     proc_channel_feed(); proc_channel_next() is called until it returns
 *     FALSE, and each frame goes to the consumer, which reads the payload the
 *     way the receiving side does and deserializes it completely.
 *     Checks: every frame's kind is one this side may receive and its
 *     payload has that kind's type; feeding the stream allocates at most
 *     about twice its size (the buffer); one proc_channel_next() allocates
 *     at most the stream's size plus NEXT_SLACK (whatever length a header
 *     claims); consuming a frame allocates at most CONSUME_FACTOR times the
 *     payload size plus CONSUME_SLACK; once the channel is freed, every fd
 *     it was given is closed.
 *  2. The same input again, fed in small pieces (as reads from a socket
 *     come), must give the same frames (kind, payload bytes, fds) and end
 *     the same way (the same error, or the same partial frame left).
 *
 * Any failed check aborts, which libFuzzer reports as a crash and saves.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz-common.h"
#include "proc-channel-private.h"
#include "proc-protocol-private.h"

/* Bounds of the allocation checks. A feed appends to a GByteArray, which
 * may double its capacity; a frame's inline payload is copied once into a
 * GBytes; GLib's GVariant machinery allocates type info (tens of bytes per
 * character of a type string found inside a variant) and printing makes a
 * text that is a few times the binary size, in a GString that doubles. */
#define FEED_SLACK      (256 * 1024)
#define NEXT_SLACK      (64 * 1024)
#define CONSUME_FACTOR  128
#define CONSUME_SLACK   (1024 * 1024)

/* The largest allocations seen, for fuzz_print_stats(). */
static gint64 max_feed_grown, max_next_grown, max_consume_small;
static double max_consume_ratio;
static gboolean alloc_counted;

typedef struct {
  guint8  kind;
  GBytes *data;
  guint   n_fds;
} FrameRecord;

static void
frame_record_free (gpointer data)
{
  FrameRecord *record = data;

  g_bytes_unref (record->data);
  g_free (record);
}

static GLogWriterOutput
fatal_log_writer (GLogLevelFlags   log_level,
                  const GLogField *fields,
                  gsize            n_fields,
                  gpointer         user_data)
{
  g_log_writer_standard_streams (log_level, fields, n_fields, user_data);
  if (log_level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    fuzz_fail ("a GLib warning or critical while decoding: that is a bug");
  return G_LOG_WRITER_HANDLED;
}

void
fuzz_init (void)
{
  static gboolean done;

  if (done)
    return;
  done = TRUE;
  g_log_set_writer_func (fatal_log_writer, NULL, NULL);

  /* See that counting works: under valgrind, whose malloc replaces ours
   * too, it does not. */
  if (fuzz_alloc_init ())
    {
      gint64 base = fuzz_alloc_mark ();
      gpointer volatile p = g_malloc (4096);

      alloc_counted = fuzz_alloc_peak () - base >= 4096;
      g_free (p);
    }
  if (!alloc_counted)
    fprintf (stderr, "fuzz: allocations cannot be counted here; those checks are off\n");
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  FuzzOutcome outcome;

  fuzz_init ();
  fuzz_target (data, size, &outcome);
  fuzz_outcome_clear (&outcome);
  return 0;
}

void
fuzz_outcome_clear (FuzzOutcome *outcome)
{
  g_clear_pointer (&outcome->error_message, g_free);
}

/* ---- deserializing -------------------------------------------------------- */

static void
walk (GVariant *value, guint depth)
{
  gsize n;

  /* g_variant_get_child_value() and friends on every container, as a
   * consumer taking the value apart would. */
  if (!g_variant_is_container (value))
    {
      if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING) ||
          g_variant_is_of_type (value, G_VARIANT_TYPE_OBJECT_PATH) ||
          g_variant_is_of_type (value, G_VARIANT_TYPE_SIGNATURE))
        {
          gsize len;
          const char *s = g_variant_get_string (value, &len);

          fuzz_check (strlen (s) == len, "g_variant_get_string(): length mismatch");
        }
      return;
    }

  n = g_variant_n_children (value);
  for (gsize i = 0; i < n; i++)
    {
      GVariant *child = g_variant_get_child_value (value, i);

      walk (child, depth + 1);
      g_variant_unref (child);
    }
}

void
fuzz_consume_value (GVariant *value)
{
  GVariant *normal;
  char *text, *normal_text;

  if (value == NULL)
    return;

  walk (value, 0);

  normal = g_variant_get_normal_form (value);
  fuzz_check (g_variant_is_normal_form (normal),
              "g_variant_get_normal_form() gave a value not in normal form");
  fuzz_check (g_variant_is_of_type (normal, g_variant_get_type (value)),
              "g_variant_get_normal_form() changed the type");

  /* A value and its normal form are the same value: same text. */
  text = g_variant_print (value, TRUE);
  normal_text = g_variant_print (normal, TRUE);
  fuzz_check (strcmp (text, normal_text) == 0,
              "a value and its normal form print differently:\n  %s\n  %s",
              text, normal_text);

  g_free (normal_text);
  g_free (text);
  g_variant_unref (normal);
}

void
fuzz_consume_fds (GUnixFDList *fds)
{
  gint n;
  const gint *peeked;

  if (fds == NULL)
    return;
  peeked = g_unix_fd_list_peek_fds (fds, &n);
  for (gint i = 0; i < n; i++)
    {
      struct stat st;

      fuzz_check (fstat (peeked[i], &st) == 0, "a frame holds fd %d, which is not open: %s",
                  peeked[i], g_strerror (errno));
      (void) fcntl (peeked[i], F_GET_SEALS);
    }
}

/* ---- decoding ------------------------------------------------------------- */

static void
check_frame (ProcFrame  *frame,
             gboolean    from_worker)
{
  const GVariantType *type = proc_frame_payload_type (frame->kind);

  fuzz_check (proc_message_kind_is_valid (frame->kind, from_worker),
              "the channel returned a frame of kind %u, which the %s never receives",
              frame->kind, from_worker ? "parent" : "worker");
  fuzz_check (frame->payload != NULL && type != NULL &&
              g_variant_is_of_type (frame->payload, type),
              "a %s frame whose payload is not of type %s",
              proc_message_kind_name (frame->kind),
              type ? g_variant_type_peek_string (type) : "?");
  /* A sender attaches at most PROC_CHANNEL_MAX_FDS_PER_FRAME fds plus the
   * payload's memfd; the receiver's header check lets 65 through in any
   * frame, memfd or not. */
  fuzz_check (frame->fds == NULL ||
              g_unix_fd_list_get_length (frame->fds) <= PROC_CHANNEL_MAX_FDS_PER_FRAME + 1,
              "a frame with %d fds", g_unix_fd_list_get_length (frame->fds));
}

/* The serialized bytes of @value. Not g_variant_get_data_as_bytes(): GLib
 * 2.74 aborts in it on a fixed-size value read from data of the wrong size
 * (data NULL, size not 0), which any non-normal payload can produce;
 * g_variant_store() writes zeros for those. */
static GBytes *
stored_bytes (GVariant *value)
{
  gsize size = g_variant_get_size (value);
  guint8 *data = g_malloc (size ? size : 1);

  g_variant_store (value, data);
  return g_bytes_new_take (data, size);
}

static ProcChannel *
new_channel (gboolean from_worker)
{
  /* No fd: the bytes come from proc_channel_feed() only. */
  return proc_channel_new (-1, from_worker ? PROC_CHANNEL_FLAGS_PEER_IS_WORKER
                                          : PROC_CHANNEL_FLAGS_NONE);
}

/* The first pass: the whole stream in one feed, every frame consumed. */
static GPtrArray *
decode_whole (const guint8 *data,
              gsize         size,
              gboolean      from_worker,
              FuzzConsumer *consumer,
              FuzzOutcome  *outcome)
{
  GPtrArray *records = g_ptr_array_new_with_free_func (frame_record_free);
  FuzzInput input;
  ProcChannel *channel;
  GError *error = NULL;
  ProcFrame frame;
  gint64 base, grown;

  fuzz_input_open (&input, data, size);
  channel = new_channel (from_worker);

  base = fuzz_alloc_mark ();
  proc_channel_feed (channel, input.stream, input.stream_len, input.fds, input.n_fds);
  grown = fuzz_alloc_peak () - base;
  max_feed_grown = MAX (max_feed_grown, grown);
  fuzz_check (!alloc_counted || grown <= (gint64) (2 * input.stream_len + FEED_SLACK),
              "feeding %" G_GSIZE_FORMAT " bytes allocated %" G_GINT64_FORMAT " bytes",
              input.stream_len, grown);

  for (;;)
    {
      gboolean ok;
      gsize payload_size;
      FrameRecord *record;

      base = fuzz_alloc_mark ();
      ok = proc_channel_next (channel, &frame, &error);
      grown = fuzz_alloc_peak () - base;
      max_next_grown = MAX (max_next_grown, grown);
      fuzz_check (!alloc_counted || grown <= (gint64) (input.stream_len + NEXT_SLACK),
                  "one proc_channel_next() on a %" G_GSIZE_FORMAT "-byte stream allocated "
                  "%" G_GINT64_FORMAT " bytes", input.stream_len, grown);
      if (!ok)
        break;

      check_frame (&frame, from_worker);
      payload_size = g_variant_get_size (frame.payload);

      record = g_new0 (FrameRecord, 1);
      record->kind = frame.kind;
      record->data = stored_bytes (frame.payload);
      record->n_fds = frame.fds ? (guint) g_unix_fd_list_get_length (frame.fds) : 0;
      g_ptr_array_add (records, record);

      base = fuzz_alloc_mark ();
      consumer->consume (consumer, frame.kind, frame.payload, frame.fds);
      consumer->n_frames++;
      grown = fuzz_alloc_peak () - base;
      if (payload_size < 4096)
        max_consume_small = MAX (max_consume_small, grown);
      else
        max_consume_ratio = MAX (max_consume_ratio, (double) grown / (double) payload_size);
      fuzz_check (!alloc_counted || grown <= (gint64) (CONSUME_FACTOR * payload_size + CONSUME_SLACK),
                  "consuming a %s frame of %" G_GSIZE_FORMAT " bytes allocated "
                  "%" G_GINT64_FORMAT " bytes", proc_message_kind_name (frame.kind),
                  payload_size, grown);

      proc_frame_clear (&frame);
    }

  outcome->n_frames = records->len;
  outcome->error = error != NULL;
  outcome->partial = error == NULL && proc_channel_has_partial_input (channel);
  outcome->rejected = consumer->rejected;
  outcome->error_message = error ? g_strdup (error->message) : NULL;
  g_clear_error (&error);

  proc_channel_free (channel);
  fuzz_input_assert_closed (&input);
  return records;
}

/* The second pass: the stream in pieces, compared with the first. */
static void
decode_in_pieces (const guint8 *data,
                  gsize         size,
                  gboolean      from_worker,
                  GPtrArray    *records,
                  FuzzOutcome  *outcome)
{
  static const gsize piece_sizes[] = { 1, 3, 8, 13, 64, 1000 };
  FuzzInput input;
  ProcChannel *channel;
  GError *error = NULL;
  ProcFrame frame;
  guint n = 0;
  gsize pos = 0, piece;
  guint32 hash = 2166136261u;

  for (gsize i = 0; i < size; i++)
    hash = (hash ^ data[i]) * 16777619u;
  piece = piece_sizes[hash % G_N_ELEMENTS (piece_sizes)];

  fuzz_input_open (&input, data, size);
  channel = new_channel (from_worker);

  /* Every fd with the first piece: fds never arrive after their bytes. */
  proc_channel_feed (channel, input.stream, 0, input.fds, input.n_fds);
  while (error == NULL)
    {
      gsize len = MIN (piece, input.stream_len - pos);

      if (len > 0)
        proc_channel_feed (channel, input.stream + pos, len, NULL, 0);
      pos += len;

      while (proc_channel_next (channel, &frame, &error))
        {
          FrameRecord *record;
          gsize expected_size;
          gconstpointer expected = NULL;
          GBytes *got;

          fuzz_check (n < records->len,
                      "fed in pieces of %" G_GSIZE_FORMAT ", the stream gave more frames "
                      "(%u) than in one piece (%u)", piece, n + 1, records->len);
          record = g_ptr_array_index (records, n);
          expected = g_bytes_get_data (record->data, &expected_size);
          got = stored_bytes (frame.payload);
          fuzz_check (frame.kind == record->kind &&
                      g_bytes_get_size (got) == expected_size &&
                      (expected_size == 0 ||
                       memcmp (g_bytes_get_data (got, NULL), expected, expected_size) == 0) &&
                      (frame.fds ? (guint) g_unix_fd_list_get_length (frame.fds) : 0) == record->n_fds,
                      "fed in pieces of %" G_GSIZE_FORMAT ", frame %u differs from the one "
                      "decoded in one piece", piece, n);
          n++;
          g_bytes_unref (got);
          proc_frame_clear (&frame);
        }
      if (len == 0)
        break;
    }

  fuzz_check (n == records->len,
              "fed in pieces of %" G_GSIZE_FORMAT ", the stream gave %u frames, in one piece %u",
              piece, n, records->len);
  fuzz_check ((error != NULL) == outcome->error,
              "fed in pieces of %" G_GSIZE_FORMAT ", decoding %s, in one piece it %s",
              piece, error ? "failed" : "did not fail", outcome->error ? "did" : "did not");
  fuzz_check (error == NULL || g_strcmp0 (error->message, outcome->error_message) == 0,
              "fed in pieces, the error is “%s”, in one piece “%s”",
              error->message, outcome->error_message);
  fuzz_check (error != NULL || proc_channel_has_partial_input (channel) == outcome->partial,
              "fed in pieces, %s partial frame is left, in one piece %s",
              outcome->partial ? "no" : "a", outcome->partial ? "one is" : "none");
  g_clear_error (&error);

  proc_channel_free (channel);
  fuzz_input_assert_closed (&input);
}

void
fuzz_print_stats (void)
{
  if (!alloc_counted)
    {
      printf ("# allocations were not counted (valgrind?): those checks were off\n");
      return;
    }
  printf ("# largest allocations: one feed %" G_GINT64_FORMAT " B, one proc_channel_next() %"
          G_GINT64_FORMAT " B, consuming a frame under 4 KiB %" G_GINT64_FORMAT " B, "
          "consuming a larger one %.1f times its size\n",
          max_feed_grown, max_next_grown, max_consume_small, max_consume_ratio);
}

void
fuzz_decode (const guint8 *data,
             gsize         size,
             gboolean      from_worker,
             FuzzConsumer *consumer,
             FuzzOutcome  *outcome)
{
  GPtrArray *records;

  memset (outcome, 0, sizeof *outcome);
  records = decode_whole (data, size, from_worker, consumer, outcome);
  decode_in_pieces (data, size, from_worker, records, outcome);
  g_ptr_array_unref (records);
}
