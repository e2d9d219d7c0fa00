/* gen-corpus.c: writes the seed corpus of the decoder fuzzers
 *
 *   gen-corpus DIR           writes the files of DIR/parent and DIR/worker
 *   gen-corpus --check DIR   fails unless DIR holds exactly what it would
 *                            write (the test suite runs this on
 *                            fuzz/corpus, so the committed seeds follow the
 *                            protocol)
 *
 * Valid frames are made by the library itself: proc_channel_queue() on one
 * end of a socketpair, proc_channel_flush(), and what arrives on the other
 * end (bytes and SCM_RIGHTS fds) is what a receiver would read. Frames that
 * arrive with fds (a memfd for a payload above 64 KiB, a task's fd list) are
 * written in the "PXFD" container format (fuzz-common.h). Malformed inputs
 * are made from valid ones or by hand, each named for what it is; the name's
 * prefix (ok-, reject-, err-, partial-) is what the replay driver expects of
 * it (fuzz-replay.c).
 *
 * parent/ holds what a parent receives (frames from a worker), worker/ what
 * a worker receives.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "fuzz-common.h"
#include "proc-channel-private.h"
#include "proc-protocol-private.h"

#ifndef F_SEAL_FUTURE_WRITE
# define F_SEAL_FUTURE_WRITE 0x0010
#endif

#define REQUIRED_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static const char *out_dir;
static gboolean check_only;
static guint n_written, n_differ;
static GHashTable *expected_files;   /* relative paths written */

/* ---- output --------------------------------------------------------------- */

static void
emit (const char   *sub,
      const char   *name,
      const guint8 *data,
      gsize         len)
{
  char *rel = g_build_filename (sub, name, NULL);
  char *path = g_build_filename (out_dir, rel, NULL);
  GError *error = NULL;

  if (g_hash_table_contains (expected_files, rel))
    g_error ("two seeds named %s", rel);
  g_hash_table_add (expected_files, g_strdup (rel));

  if (check_only)
    {
      char *old = NULL;
      gsize old_len;

      if (!g_file_get_contents (path, &old, &old_len, NULL) ||
          old_len != len || memcmp (old, data, len) != 0)
        {
          printf ("# %s differs from what gen-corpus makes now\n", rel);
          n_differ++;
        }
      g_free (old);
    }
  else
    {
      char *dir = g_path_get_dirname (path);

      g_mkdir_with_parents (dir, 0755);
      if (!g_file_set_contents (path, (const char *) data, (gssize) len, &error))
        g_error ("%s", error->message);
      g_free (dir);
    }
  n_written++;
  g_free (path);
  g_free (rel);
}

/* Files in DIR/SUB that gen-corpus did not make. */
static void
check_no_extra (const char *sub)
{
  char *path = g_build_filename (out_dir, sub, NULL);
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    {
      printf ("# %s is missing\n", path);
      n_differ++;
      g_free (path);
      return;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      char *rel = g_build_filename (sub, name, NULL);

      if (!g_hash_table_contains (expected_files, rel))
        {
          printf ("# %s is not made by gen-corpus (new fuzzer inputs belong in "
                  "fuzz/regressions/, see fuzz/README.md)\n", rel);
          n_differ++;
        }
      g_free (rel);
    }
  g_dir_close (dir);
  g_free (path);
}

/* ---- frames made by the library ------------------------------------------ */

typedef struct {
  ProcChannel *sender;
  int          receiver;
  GByteArray  *stream;
  GArray      *fds;
} Capture;

static void
capture_begin (Capture *c)
{
  int sv[2];

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    g_error ("socketpair: %s", g_strerror (errno));
  g_unix_set_fd_nonblocking (sv[0], TRUE, NULL);
  g_unix_set_fd_nonblocking (sv[1], TRUE, NULL);
  c->sender = proc_channel_new (sv[0], PROC_CHANNEL_FLAGS_NONE);
  c->receiver = sv[1];
  c->stream = g_byte_array_new ();
  c->fds = g_array_new (FALSE, FALSE, sizeof (int));
}

/* Takes @fds. */
static void
queue (Capture     *c,
       guint8       kind,
       GVariant    *payload,
       GUnixFDList *fds)
{
  GError *error = NULL;

  if (!proc_channel_queue (c->sender, kind, payload, fds, &error))
    g_error ("proc_channel_queue: %s", error->message);
  /* The channel dups the fds it sends. */
  g_clear_object (&fds);
}

static void
receive_available (Capture *c)
{
  for (;;)
    {
      guint8 buf[65536];
      struct iovec iov = { buf, sizeof buf };
      union {
        char buf[CMSG_SPACE (sizeof (int) * 253)];
        struct cmsghdr align;
      } control;
      struct msghdr msg = { 0 };
      ssize_t n;

      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control.buf;
      msg.msg_controllen = sizeof control.buf;
      n = recvmsg (c->receiver, &msg, MSG_CMSG_CLOEXEC);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
      if (n < 0)
        g_error ("recvmsg: %s", g_strerror (errno));
      for (struct cmsghdr *cmsg = CMSG_FIRSTHDR (&msg); cmsg != NULL; cmsg = CMSG_NXTHDR (&msg, cmsg))
        if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS)
          g_array_append_vals (c->fds, CMSG_DATA (cmsg),
                               (cmsg->cmsg_len - CMSG_LEN (0)) / sizeof (int));
      g_byte_array_append (c->stream, buf, (guint) n);
      if (n == 0)
        return;
    }
}

static void
capture_flush (Capture *c)
{
  GError *error = NULL;

  do
    {
      if (!proc_channel_flush (c->sender, FALSE, &error))
        g_error ("proc_channel_flush: %s", error->message);
      receive_available (c);
    }
  while (proc_channel_has_output (c->sender));
}

/* The description of a received fd in the container format. */
static void
describe_fd (GByteArray *specs,
             int         fd)
{
  struct stat st;
  int seals = fcntl (fd, F_GET_SEALS);

  if (fstat (fd, &st) < 0)
    g_error ("fstat: %s", g_strerror (errno));

  if (seals >= 0 && S_ISREG (st.st_mode))
    {
      guint8 *content = g_malloc (st.st_size ? st.st_size : 1);

      if (pread (fd, content, st.st_size, 0) != st.st_size)
        g_error ("pread: %s", g_strerror (errno));
      if ((seals & (REQUIRED_SEALS | F_SEAL_SEAL)) == (REQUIRED_SEALS | F_SEAL_SEAL))
        fuzz_input_add_memfd (specs, FUZZ_FD_SEALED_MEMFD, 0, 0, content, (guint32) st.st_size);
      else
        fuzz_input_add_memfd (specs, FUZZ_FD_MEMFD,
                              ((seals & F_SEAL_SEAL) ? 1 : 0) | ((seals & F_SEAL_SHRINK) ? 2 : 0) |
                              ((seals & F_SEAL_GROW) ? 4 : 0) | ((seals & F_SEAL_WRITE) ? 8 : 0),
                              0, content, (guint32) st.st_size);
      g_free (content);
    }
  else if (S_ISFIFO (st.st_mode))
    fuzz_input_add_memfd (specs, FUZZ_FD_PIPE, 0, 0, NULL, 0);
  else if (S_ISSOCK (st.st_mode))
    fuzz_input_add_memfd (specs, FUZZ_FD_SOCKET, 0, 0, NULL, 0);
  else
    fuzz_input_add_memfd (specs, FUZZ_FD_DEVNULL, 0, 0, NULL, 0);
}

/* Builds an input: the raw stream, or a container when fds came along. */
static GByteArray *
make_input (const GByteArray *stream,
            const int        *fds,
            guint             n_fds)
{
  GByteArray *out = g_byte_array_new ();

  if (n_fds > 0)
    {
      guint8 n = (guint8) n_fds;

      g_byte_array_append (out, (const guint8 *) FUZZ_FD_MAGIC, FUZZ_FD_MAGIC_LEN);
      g_byte_array_append (out, &n, 1);
      for (guint i = 0; i < n_fds; i++)
        describe_fd (out, fds[i]);
    }
  g_byte_array_append (out, stream->data, stream->len);
  return out;
}

/* Flushes, writes the input as SUB/NAME, frees the capture. */
static void
capture_end (Capture    *c,
             const char *sub,
             const char *name)
{
  GByteArray *input;

  capture_flush (c);
  input = make_input (c->stream, (const int *) c->fds->data, c->fds->len);
  emit (sub, name, input->data, input->len);
  g_byte_array_unref (input);

  for (guint i = 0; i < c->fds->len; i++)
    close (g_array_index (c->fds, int, i));
  g_array_unref (c->fds);
  g_byte_array_unref (c->stream);
  proc_channel_free (c->sender);
  close (c->receiver);
}

/* One frame, made by the library. */
static void
one (const char  *sub,
     const char  *name,
     guint8       kind,
     GVariant    *payload,
     GUnixFDList *fds)
{
  Capture c;

  capture_begin (&c);
  queue (&c, kind, payload, fds);
  capture_end (&c, sub, name);
}

/* The bytes of a frame of @kind with @payload, inline (no fds). */
static GByteArray *
frame_bytes (guint8    kind,
             GVariant *payload)
{
  Capture c;
  GByteArray *bytes;

  capture_begin (&c);
  queue (&c, kind, payload, NULL);
  capture_flush (&c);
  g_assert (c.fds->len == 0);
  bytes = g_byte_array_ref (c.stream);
  g_array_unref (c.fds);
  g_byte_array_unref (c.stream);
  proc_channel_free (c.sender);
  close (c.receiver);
  return bytes;
}

/* ---- frames made by hand -------------------------------------------------- */

static void
put_header (GByteArray *out,
            guint32     len,
            guint8      kind,
            guint8      flags,
            guint16     n_fds)
{
  guint8 h[8] = {
    (guint8) len, (guint8) (len >> 8), (guint8) (len >> 16), (guint8) (len >> 24),
    kind, flags, (guint8) n_fds, (guint8) (n_fds >> 8),
  };

  g_byte_array_append (out, h, sizeof h);
}

/* A frame whose payload is @data as is, padded with @pad_byte. */
static void
put_frame (GByteArray   *out,
           guint8        kind,
           const guint8 *data,
           guint32       len,
           guint8        pad_byte)
{
  put_header (out, len, kind, 0, 0);
  g_byte_array_append (out, data, len);
  for (guint32 i = len; i % 8 != 0; i++)
    g_byte_array_append (out, &pad_byte, 1);
}

static void
put_variant_frame (GByteArray *out,
                   guint8      kind,
                   GVariant   *payload)
{
  GByteArray *bytes = frame_bytes (kind, payload);

  g_byte_array_append (out, bytes->data, bytes->len);
  g_byte_array_unref (bytes);
}

static void
emit_bytes (const char *sub,
            const char *name,
            GByteArray *bytes)
{
  emit (sub, name, bytes->data, bytes->len);
  g_byte_array_unref (bytes);
}

/* A container: @prefix frames inline, then a frame of @kind with @flags
 * whose inline payload is @head (NULL: @len zero bytes), @n_fds_claimed
 * fds claimed, and @specs describing the fds given. */
static void
emit_fd_frame (const char *sub,
               const char *name,
               GByteArray *prefix,
               guint8      kind,
               guint8      flags,
               GVariant   *head,
               guint32     len,
               guint16     n_fds_claimed,
               guint8      n_fds_given,
               GByteArray *specs)
{
  GByteArray *out = g_byte_array_new ();

  g_byte_array_append (out, (const guint8 *) FUZZ_FD_MAGIC, FUZZ_FD_MAGIC_LEN);
  g_byte_array_append (out, &n_fds_given, 1);
  g_byte_array_append (out, specs->data, specs->len);
  if (prefix != NULL)
    g_byte_array_append (out, prefix->data, prefix->len);
  if (head != NULL)
    {
      g_variant_ref_sink (head);
      len = (guint32) g_variant_get_size (head);
    }
  put_header (out, len, kind, flags, n_fds_claimed);
  if (head != NULL)
    g_byte_array_append (out, g_variant_get_data (head), len);
  else
    for (guint32 i = 0; i < len; i++)
      g_byte_array_append (out, (const guint8 *) "\0", 1);
  for (guint32 i = len; i % 8 != 0; i++)
    g_byte_array_append (out, (const guint8 *) "\0", 1);
  emit (sub, name, out->data, out->len);
  g_clear_pointer (&head, g_variant_unref);
  g_byte_array_unref (out);
  g_byte_array_unref (specs);
}

/* A frame flagged MEMFD: its payload is all in the first fd. */
static void
emit_memfd_frame (const char *sub,
                  const char *name,
                  GByteArray *prefix,
                  guint8      kind,
                  guint8      flags,
                  guint32     len,
                  guint16     n_fds_claimed,
                  guint8      n_fds_given,
                  GByteArray *specs)
{
  emit_fd_frame (sub, name, prefix, kind, flags, NULL, len, n_fds_claimed, n_fds_given, specs);
}

static GByteArray *
serialized (GVariant *value)
{
  GByteArray *out = g_byte_array_new ();

  g_variant_ref_sink (value);
  g_byte_array_append (out, g_variant_get_data (value), (guint) g_variant_get_size (value));
  g_variant_unref (value);
  return out;
}

static GByteArray *
spec_memfd (FuzzFdType type,
            guint8     seals,
            guint8     pages,
            GVariant  *payload)
{
  GByteArray *specs = g_byte_array_new ();
  GByteArray *data = serialized (payload);

  fuzz_input_add_memfd (specs, type, seals, pages, data->data, data->len);
  g_byte_array_unref (data);
  return specs;
}

static GByteArray *
spec_simple (FuzzFdType type)
{
  GByteArray *specs = g_byte_array_new ();

  fuzz_input_add_memfd (specs, type, 0, 0, NULL, 0);
  return specs;
}

/* ---- what travels --------------------------------------------------------- */

static GVariant *
big_bytes (gsize n)
{
  guint8 *data = g_malloc (n);

  for (gsize i = 0; i < n; i++)
    data[i] = (guint8) (i * 131 + (i >> 8));
  return g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING, data, n, TRUE, g_free, data);
}

static GUnixFDList *
some_fds (void)
{
  GUnixFDList *list = g_unix_fd_list_new ();
  int p[2];
  int null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);

  if (pipe2 (p, O_CLOEXEC) < 0 || null_fd < 0)
    g_error ("pipe2/open: %s", g_strerror (errno));
  g_unix_fd_list_append (list, p[0], NULL);
  g_unix_fd_list_append (list, null_fd, NULL);
  close (p[0]);
  close (p[1]);
  close (null_fd);
  return list;
}

static GVariant *
nested_value (void)
{
  return g_variant_new_parsed ("{'a': <[1, 2, 3]>, 'b': <(true, 2.5, 'x', @mi nothing)>, "
                               "'c': <@a{sv} {'deep': <<<[@ay [1, 2], [3]]>>>}>, "
                               "'d': <(byte 0xff, int16 -2, uint16 2, int32 -3, uint32 3, "
                               "int64 -4, uint64 4, handle 0, objectpath '/a/b', signature 'a{sv}')>}");
}

static GVariant *
hello (guint32 version, gboolean with_initializer)
{
  const char *modules[] = { "/usr/lib/procexec-1/modules/tasks.so", "other", NULL };

  return g_variant_new ("(u^aaymsv)", version, modules,
                        with_initializer ? "init" : NULL,
                        with_initializer ? g_variant_new ("(s)", "initarg") : g_variant_new ("()"));
}

/* ---- the parent's corpus: frames from a worker ---------------------------- */

static void
gen_parent (void)
{
  const char *d = "parent";
  Capture c;
  GVariantBuilder items;

  one (d, "ok-ready", PROC_MSG_READY, g_variant_new ("(u)", PROC_PROTOCOL_VERSION), NULL);
  one (d, "ok-init-failed", PROC_MSG_INIT_FAILED,
       g_variant_new ("(sis)", "g-io-error-quark", 1, "the module could not be loaded"), NULL);
  one (d, "ok-result-unit", PROC_MSG_RESULT, g_variant_new ("(tv)", 1, g_variant_new ("()")), NULL);
  one (d, "ok-result-int", PROC_MSG_RESULT, g_variant_new ("(tv)", 7, g_variant_new ("(x)", 49)), NULL);
  one (d, "ok-result-string", PROC_MSG_RESULT,
       g_variant_new ("(tv)", 2, g_variant_new_string ("h\xc3\xa9llo, world")), NULL);
  one (d, "ok-result-nested", PROC_MSG_RESULT, g_variant_new ("(tv)", 3, nested_value ()), NULL);
  one (d, "ok-result-bytes", PROC_MSG_RESULT, g_variant_new ("(tv)", 4, big_bytes (300)), NULL);
  one (d, "ok-error", PROC_MSG_ERROR,
       g_variant_new ("(tsis)", 5, "proc-test-error-quark", 101, "the task failed"), NULL);
  one (d, "ok-error-foreign-domain", PROC_MSG_ERROR,
       g_variant_new ("(tsis)", 5, "a-domain-nobody-registered-quark", -7, "?"), NULL);
  one (d, "ok-error-empty-domain", PROC_MSG_ERROR, g_variant_new ("(tsis)", 5, "", 0, ""), NULL);

  /* Results of differing types are boxed (av), results of one type not. */
  g_variant_builder_init (&items, G_VARIANT_TYPE ("av"));
  g_variant_builder_add (&items, "v", g_variant_new ("(u)", 1));
  g_variant_builder_add (&items, "v", g_variant_new ("(s)", "two"));
  g_variant_builder_add (&items, "v", g_variant_new ("()"));
  one (d, "ok-chunk-result", PROC_MSG_CHUNK_RESULT,
       g_variant_new ("(tvbsis)", 9, g_variant_builder_end (&items), FALSE, "", 0, ""), NULL);
  one (d, "ok-chunk-result-one-type", PROC_MSG_CHUNK_RESULT,
       g_variant_new ("(tvbsis)", 9, g_variant_new_parsed ("[(1,), (2,), (3,)]"), FALSE, "", 0, ""), NULL);
  one (d, "ok-chunk-result-failed", PROC_MSG_CHUNK_RESULT,
       g_variant_new ("(tvbsis)", 9, g_variant_new_parsed ("[(uint32 1,)]"), TRUE, "g-io-error-quark", 19, "cancelled"), NULL);

  one (d, "ok-progress", PROC_MSG_PROGRESS, g_variant_new ("(tdmv)", 4, 0.5, NULL), NULL);
  one (d, "ok-progress-detail", PROC_MSG_PROGRESS,
       g_variant_new ("(tdmv)", 4, 0.25, g_variant_new_string ("halfway")), NULL);
  one (d, "ok-reclaimed", PROC_MSG_RECLAIMED, g_variant_new ("(t)", 11), NULL);

  capture_begin (&c);
  queue (&c, PROC_MSG_READY, g_variant_new ("(u)", PROC_PROTOCOL_VERSION), NULL);
  queue (&c, PROC_MSG_PROGRESS, g_variant_new ("(tdmv)", 1, 0.1, NULL), NULL);
  queue (&c, PROC_MSG_RESULT, g_variant_new ("(tv)", 1, g_variant_new ("(u)", 1)), NULL);
  queue (&c, PROC_MSG_ERROR, g_variant_new ("(tsis)", 2, "g-io-error-quark", 0, "x"), NULL);
  queue (&c, PROC_MSG_CHUNK_RESULT,
         g_variant_new ("(tvbsis)", 3, g_variant_new_parsed ("[(-1,)]"), FALSE, "", 0, ""), NULL);
  queue (&c, PROC_MSG_RECLAIMED, g_variant_new ("(t)", 4), NULL);
  capture_end (&c, d, "ok-session");

  /* Above 64 KiB a payload travels in a sealed memfd. */
  one (d, "ok-result-memfd", PROC_MSG_RESULT,
       g_variant_new ("(tv)", 6, big_bytes (PROC_CHANNEL_MEMFD_THRESHOLD + 1000)), NULL);
  one (d, "ok-result-with-fds", PROC_MSG_RESULT,
       g_variant_new ("(tv)", 6, g_variant_new ("(h)", 0)), some_fds ());
}

/* ---- the worker's corpus: frames from a parent ---------------------------- */

static void
gen_worker (void)
{
  const char *d = "worker";
  Capture c;
  GVariantBuilder items;

  one (d, "ok-hello", PROC_MSG_HELLO, hello (PROC_PROTOCOL_VERSION, FALSE), NULL);
  one (d, "ok-hello-initializer", PROC_MSG_HELLO, hello (PROC_PROTOCOL_VERSION, TRUE), NULL);

  capture_begin (&c);
  queue (&c, PROC_MSG_HELLO, hello (PROC_PROTOCOL_VERSION, FALSE), NULL);
  queue (&c, PROC_MSG_RUN, g_variant_new ("(tsv)", 1, "echo", g_variant_new ("(u)", 1)), NULL);
  queue (&c, PROC_MSG_RUN_CHUNK,
         g_variant_new ("(tsv)", 2, "square", g_variant_new_parsed ("[(int64 1,), (2,)]")), NULL);
  g_variant_builder_init (&items, G_VARIANT_TYPE ("av"));
  g_variant_builder_add (&items, "v", g_variant_new ("(x)", 3));
  g_variant_builder_add (&items, "v", g_variant_new ("(s)", "four"));
  queue (&c, PROC_MSG_RUN_CHUNK,
         g_variant_new ("(tsv)", 5, "square", g_variant_builder_end (&items)), NULL);
  queue (&c, PROC_MSG_RUN, g_variant_new ("(tsv)", 3, "nested", g_variant_new ("(@a{sv})", nested_value ())), NULL);
  queue (&c, PROC_MSG_RUN, g_variant_new ("(tsv)", 4, "not-a-tuple", g_variant_new_int32 (5)), NULL);
  queue (&c, PROC_MSG_CANCEL, g_variant_new ("(t)", 1), NULL);
  queue (&c, PROC_MSG_RECLAIM, g_variant_new ("(t)", 2), NULL);
  queue (&c, PROC_MSG_EXIT, g_variant_new ("()"), NULL);
  capture_end (&c, d, "ok-session");

  capture_begin (&c);
  queue (&c, PROC_MSG_HELLO, hello (PROC_PROTOCOL_VERSION, FALSE), NULL);
  queue (&c, PROC_MSG_RUN, g_variant_new ("(tsv)", 1, "sum",
                                           g_variant_new ("(@ay)", big_bytes (PROC_CHANNEL_MEMFD_THRESHOLD + 8))), NULL);
  capture_end (&c, d, "ok-run-memfd");

  capture_begin (&c);
  queue (&c, PROC_MSG_HELLO, hello (PROC_PROTOCOL_VERSION, FALSE), NULL);
  queue (&c, PROC_MSG_RUN, g_variant_new ("(tsv)", 1, "read-fds", g_variant_new ("(hh)", 0, 1)), some_fds ());
  capture_end (&c, d, "ok-run-with-fds");

  /* Frames that decode, but the worker dies for them. */
  one (d, "reject-no-hello", PROC_MSG_RUN, g_variant_new ("(tsv)", 1, "echo", g_variant_new ("()")), NULL);
  one (d, "reject-hello-version", PROC_MSG_HELLO, hello (PROC_PROTOCOL_VERSION + 1, FALSE), NULL);
  capture_begin (&c);
  queue (&c, PROC_MSG_HELLO, hello (PROC_PROTOCOL_VERSION, FALSE), NULL);
  queue (&c, PROC_MSG_HELLO, hello (PROC_PROTOCOL_VERSION, FALSE), NULL);
  capture_end (&c, d, "reject-hello-twice");
}

/* ---- malformed input, for both sides -------------------------------------- */

static void
gen_malformed (gboolean from_worker)
{
  const char *d = from_worker ? "parent" : "worker";
  /* A first frame that is right, then the one that is not. */
  guint8 first_kind = from_worker ? PROC_MSG_READY : PROC_MSG_HELLO;
  GVariant *first = from_worker ? g_variant_new ("(u)", PROC_PROTOCOL_VERSION) : hello (PROC_PROTOCOL_VERSION, FALSE);
  guint8 kind = from_worker ? PROC_MSG_RESULT : PROC_MSG_RUN;
  GVariant *payload = from_worker
    ? g_variant_new ("(tv)", 1, g_variant_new ("(s)", "value"))
    : g_variant_new ("(tsv)", 1, "echo", g_variant_new ("(s)", "value"));
  GByteArray *prefix, *frame, *b;
  guint8 wrong_side_kind = from_worker ? PROC_MSG_HELLO : PROC_MSG_READY;
  static const guint8 unknown_kinds[] = { 0, 7, 15, 23, 0xee, 0xff };
  static const guint8 garbage[24] = {
    0xde, 0xad, 0xbe, 0xef, 0xff, 0xff, 0xff, 0xff, 0x00, 0x01, 0x02, 0x03,
    0x28, 0x73, 0x29, 0x00, 0xff, 0x10, 0x20, 0x30, 0x80, 0x81, 0x82, 0x83,
  };

  g_variant_ref_sink (first);
  g_variant_ref_sink (payload);
  prefix = frame_bytes (first_kind, first);
  frame = frame_bytes (kind, payload);

  /* Truncated: the header, the payload, the padding. */
  b = g_byte_array_new ();
  g_byte_array_append (b, prefix->data, prefix->len);
  g_byte_array_append (b, frame->data, 5);
  emit_bytes (d, "partial-truncated-header", b);
  b = g_byte_array_new ();
  g_byte_array_append (b, prefix->data, prefix->len);
  g_byte_array_append (b, frame->data, 8 + (frame->len - 8) / 2);
  emit_bytes (d, "partial-truncated-payload", b);
  b = g_byte_array_new ();
  g_byte_array_append (b, frame->data, frame->len - 1);
  emit_bytes (d, "partial-truncated-padding", b);

  /* Lengths: huge, one past the limit, the limit with little behind it. */
  b = g_byte_array_new ();
  g_byte_array_append (b, prefix->data, prefix->len);
  put_header (b, 0xfffffff8u, kind, 0, 0);
  g_byte_array_append (b, garbage, sizeof garbage);
  emit_bytes (d, "err-huge-length", b);
  b = g_byte_array_new ();
  put_header (b, G_MAXUINT32, kind, 0, 0);
  emit_bytes (d, "err-length-max", b);
  b = g_byte_array_new ();
  g_byte_array_append (b, prefix->data, prefix->len);
  put_header (b, PROC_CHANNEL_MAX_INLINE + 8, kind, 0, 0);
  g_byte_array_append (b, garbage, sizeof garbage);
  emit_bytes (d, "err-oversized", b);
  b = g_byte_array_new ();
  g_byte_array_append (b, prefix->data, prefix->len);
  put_header (b, PROC_CHANNEL_MAX_INLINE, kind, 0, 0);
  g_byte_array_append (b, garbage, sizeof garbage);
  emit_bytes (d, "partial-claims-max-inline", b);

  /* Kinds: unknown, and the other side's. */
  for (guint i = 0; i < G_N_ELEMENTS (unknown_kinds); i++)
    {
      char *name = g_strdup_printf ("err-unknown-kind-%u", unknown_kinds[i]);

      b = g_byte_array_new ();
      g_byte_array_append (b, prefix->data, prefix->len);
      put_frame (b, unknown_kinds[i], garbage, 8, 0);
      emit_bytes (d, name, b);
      g_free (name);
    }
  b = g_byte_array_new ();
  g_byte_array_append (b, prefix->data, prefix->len);
  put_variant_frame (b, wrong_side_kind,
                     from_worker ? hello (PROC_PROTOCOL_VERSION, FALSE) : g_variant_new ("(u)", 1));
  emit_bytes (d, "err-kind-of-the-other-side", b);

  /* Flags and fd counts in the header. */
  b = g_byte_array_new ();
  g_byte_array_append (b, frame->data, frame->len);
  b->data[5] = 0x02;
  emit_bytes (d, "err-unknown-flag", b);
  b = g_byte_array_new ();
  g_byte_array_append (b, frame->data, frame->len);
  b->data[6] = 2;
  emit_bytes (d, "err-fd-count-mismatch", b);
  b = g_byte_array_new ();
  put_header (b, 0, kind, PROC_FRAME_FLAG_MEMFD, 0);
  emit_bytes (d, "err-memfd-flag-without-fd", b);
  b = g_byte_array_new ();
  g_byte_array_append (b, frame->data, frame->len);
  b->data[6] = PROC_CHANNEL_MAX_FDS_PER_FRAME + 2;
  emit_bytes (d, "err-too-many-fds", b);

  /* Payloads of the wrong type, or no GVariant at all: GVariant reads
   * them as non-normal data (default values where they do not fit). The
   * parent refuses non-normal data from a worker; a worker reads it. */
  b = g_byte_array_new ();
  g_byte_array_append (b, prefix->data, prefix->len);
  /* A (sis) under the header of @kind: read as the kind's type. */
  put_variant_frame (b, kind, g_variant_new ("(sis)", "wrong", 1, "type"));
  emit_bytes (d, from_worker ? "err-payload-of-another-type" : "ok-payload-of-another-type", b);
  b = g_byte_array_new ();
  g_byte_array_append (b, prefix->data, prefix->len);
  put_frame (b, kind, garbage, sizeof garbage, 0);
  put_frame (b, kind, garbage, 3, 0xaa);  /* non-zero padding is not checked */
  put_frame (b, kind, garbage, 0, 0);
  emit_bytes (d, from_worker ? "err-garbage-payloads" : "ok-garbage-payloads", b);

  /* memfd frames: the fd must be a memfd sealed against shrinking, growing
   * and writing. */
  {
    GVariant *p = g_variant_ref_sink (from_worker
                                      ? g_variant_new ("(tv)", 1, g_variant_new ("(s)", "in a memfd"))
                                      : g_variant_new ("(tsv)", 1, "echo", g_variant_new ("(s)", "in a memfd")));

    emit_memfd_frame (d, "ok-memfd-small", prefix, kind, PROC_FRAME_FLAG_MEMFD, 0, 1, 1,
                      spec_memfd (FUZZ_FD_SEALED_MEMFD, 0, 0, p));
    emit_memfd_frame (d, "ok-memfd-without-seal-seal", prefix, kind, PROC_FRAME_FLAG_MEMFD, 0, 1, 1,
                      spec_memfd (FUZZ_FD_MEMFD, 2 | 4 | 8, 0, p));
    /* A sparse memfd costs its sender nothing: refused on both sides. */
    emit_memfd_frame (d, "err-memfd-sparse-tail", prefix, kind, PROC_FRAME_FLAG_MEMFD, 0, 1, 1,
                      spec_memfd (FUZZ_FD_MEMFD, 1 | 2 | 4 | 8, 3, p));
    emit_memfd_frame (d, "err-memfd-empty", prefix, kind, PROC_FRAME_FLAG_MEMFD, 0, 1, 1,
                      spec_memfd (FUZZ_FD_SEALED_MEMFD, 0, 0, g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING, "", 0, TRUE, NULL, NULL)));
    emit_memfd_frame (d, "err-memfd-unsealed", prefix, kind, PROC_FRAME_FLAG_MEMFD, 0, 1, 1,
                      spec_memfd (FUZZ_FD_MEMFD, 0, 0, p));
    emit_memfd_frame (d, "err-memfd-writable", prefix, kind, PROC_FRAME_FLAG_MEMFD, 0, 1, 1,
                      spec_memfd (FUZZ_FD_MEMFD, 1 | 2 | 4, 0, p));
    emit_memfd_frame (d, "err-memfd-future-write-only", prefix, kind, PROC_FRAME_FLAG_MEMFD, 0, 1, 1,
                      spec_memfd (FUZZ_FD_MEMFD, 1 | 2 | 4 | 16, 0, p));
    emit_memfd_frame (d, "err-memfd-unsealable", prefix, kind, PROC_FRAME_FLAG_MEMFD, 0, 1, 1,
                      spec_memfd (FUZZ_FD_UNSEALABLE, 0, 0, p));
    emit_memfd_frame (d, "err-memfd-regular-file", prefix, kind, PROC_FRAME_FLAG_MEMFD, 0, 1, 1,
                      spec_memfd (FUZZ_FD_FILE, 0, 0, p));
    emit_memfd_frame (d, "err-memfd-is-a-pipe", prefix, kind, PROC_FRAME_FLAG_MEMFD, 0, 1, 1,
                      spec_simple (FUZZ_FD_PIPE));
    emit_memfd_frame (d, "err-memfd-is-dev-null", prefix, kind, PROC_FRAME_FLAG_MEMFD, 0, 1, 1,
                      spec_simple (FUZZ_FD_DEVNULL));
    emit_memfd_frame (d, "err-memfd-is-a-socket", prefix, kind, PROC_FRAME_FLAG_MEMFD, 0, 1, 1,
                      spec_simple (FUZZ_FD_SOCKET));
    emit_memfd_frame (d, "err-memfd-flag-with-length", prefix, kind, PROC_FRAME_FLAG_MEMFD, 8, 1, 1,
                      spec_memfd (FUZZ_FD_SEALED_MEMFD, 0, 0, p));
    emit_memfd_frame (d, "err-memfd-fewer-fds-than-claimed", prefix, kind, PROC_FRAME_FLAG_MEMFD, 0, 3, 1,
                      spec_memfd (FUZZ_FD_SEALED_MEMFD, 0, 0, p));
    g_variant_unref (p);
  }

  /* Call frames whose value is in the first fd: the head holds its type,
   * which must be one complete type, and the fd is checked as above. */
  {
    GVariant *value = g_variant_ref_sink (g_variant_new ("(s)", "in a memfd"));
    GVariant *maybe_value = g_variant_ref_sink (g_variant_new ("(ms)", "in a memfd"));
    guint8 call_kind = from_worker ? PROC_MSG_RESULT : PROC_MSG_RUN;
#define HEAD(type) (from_worker ? g_variant_new ("(ts)", 1, type) : g_variant_new ("(tss)", 1, "echo", type))

    emit_fd_frame (d, "ok-value-fd", prefix, call_kind, PROC_FRAME_FLAG_VALUE_FD, HEAD ("(s)"), 0, 1, 1,
                   spec_memfd (FUZZ_FD_SEALED_MEMFD, 0, 0, value));
    emit_fd_frame (d, "ok-value-fd-of-another-type", prefix, call_kind, PROC_FRAME_FLAG_VALUE_FD, HEAD ("a{sv}"), 0, 1, 1,
                   spec_memfd (FUZZ_FD_SEALED_MEMFD, 0, 0, value));
    /* Maybe types are why the type is a string and not a signature. */
    emit_fd_frame (d, "ok-value-fd-maybe", prefix, call_kind, PROC_FRAME_FLAG_VALUE_FD, HEAD ("(ms)"), 0, 1, 1,
                   spec_memfd (FUZZ_FD_SEALED_MEMFD, 0, 0, maybe_value));
    emit_fd_frame (d, "err-value-fd-two-types", prefix, call_kind, PROC_FRAME_FLAG_VALUE_FD, HEAD ("ss"), 0, 1, 1,
                   spec_memfd (FUZZ_FD_SEALED_MEMFD, 0, 0, value));
    emit_fd_frame (d, "err-value-fd-indefinite", prefix, call_kind, PROC_FRAME_FLAG_VALUE_FD, HEAD ("m*"), 0, 1, 1,
                   spec_memfd (FUZZ_FD_SEALED_MEMFD, 0, 0, value));
    emit_fd_frame (d, "err-value-fd-unsealed", prefix, call_kind, PROC_FRAME_FLAG_VALUE_FD, HEAD ("(s)"), 0, 1, 1,
                   spec_memfd (FUZZ_FD_MEMFD, 0, 0, value));
    emit_fd_frame (d, "err-value-fd-without-fd", prefix, call_kind, PROC_FRAME_FLAG_VALUE_FD, HEAD ("(s)"), 0, 0, 0,
                   g_byte_array_new ());
    emit_fd_frame (d, "err-value-fd-and-memfd", prefix, call_kind, PROC_FRAME_FLAG_VALUE_FD | PROC_FRAME_FLAG_MEMFD,
                   HEAD ("(s)"), 0, 1, 1, spec_memfd (FUZZ_FD_SEALED_MEMFD, 0, 0, value));
    emit_fd_frame (d, "err-value-fd-not-a-call", prefix, from_worker ? PROC_MSG_PROGRESS : PROC_MSG_CANCEL,
                   PROC_FRAME_FLAG_VALUE_FD, HEAD ("(s)"), 0, 1, 1, spec_memfd (FUZZ_FD_SEALED_MEMFD, 0, 0, value));
#undef HEAD
    g_variant_unref (maybe_value);
    g_variant_unref (value);
  }

  /* fds that no frame claims: they wait in the channel, which closes them. */
  b = g_byte_array_new ();
  g_byte_array_append (b, (const guint8 *) FUZZ_FD_MAGIC, FUZZ_FD_MAGIC_LEN);
  g_byte_array_append (b, (const guint8 *) "\3", 1);
  fuzz_input_add_memfd (b, FUZZ_FD_DEVNULL, 0, 0, NULL, 0);
  fuzz_input_add_memfd (b, FUZZ_FD_SOCKET, 0, 0, NULL, 0);
  fuzz_input_add_memfd (b, FUZZ_FD_DUP, 0, 0, NULL, 0);
  g_byte_array_append (b, prefix->data, prefix->len);
  emit_bytes (d, "ok-unclaimed-fds", b);

  g_byte_array_unref (frame);
  g_byte_array_unref (prefix);
  g_variant_unref (payload);
  g_variant_unref (first);
}

/* A READY with another version, twice, and progress that is not a number. */
static void
gen_parent_rejects (void)
{
  const char *d = "parent";
  Capture c;

  one (d, "reject-ready-version", PROC_MSG_READY, g_variant_new ("(u)", PROC_PROTOCOL_VERSION + 1), NULL);
  capture_begin (&c);
  queue (&c, PROC_MSG_READY, g_variant_new ("(u)", PROC_PROTOCOL_VERSION), NULL);
  queue (&c, PROC_MSG_READY, g_variant_new ("(u)", PROC_PROTOCOL_VERSION), NULL);
  capture_end (&c, d, "reject-ready-twice");
  one (d, "reject-progress-nan", PROC_MSG_PROGRESS, g_variant_new ("(tdmv)", 1, NAN, NULL), NULL);
  one (d, "reject-progress-infinite", PROC_MSG_PROGRESS, g_variant_new ("(tdmv)", 1, -INFINITY, NULL), NULL);
}

int
main (int argc, char **argv)
{
  if (argc == 3 && strcmp (argv[1], "--check") == 0)
    {
      check_only = TRUE;
      out_dir = argv[2];
    }
  else if (argc == 2 && argv[1][0] != '-')
    out_dir = argv[1];
  else
    {
      fprintf (stderr, "usage: %s [--check] DIR\n", argv[0]);
      return 2;
    }

  expected_files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  gen_parent ();
  gen_parent_rejects ();
  gen_malformed (TRUE);
  gen_worker ();
  gen_malformed (FALSE);

  if (check_only)
    {
      check_no_extra ("parent");
      check_no_extra ("worker");
      printf ("%s %u seeds in %s, %u differ\n", n_differ == 0 ? "ok 1 -" : "not ok 1 -",
              n_written, out_dir, n_differ);
      printf ("1..1\n");
      if (n_differ > 0)
        printf ("# regenerate them with: gen-corpus %s (from the build directory: fuzz/gen-corpus)\n",
                out_dir);
    }
  else
    printf ("%u seeds written in %s\n", n_written, out_dir);

  g_hash_table_unref (expected_files);
  return n_differ == 0 ? 0 : 1;
}
