/* hostile-worker.c: a worker program that answers with raw bytes
 *
 *   proc-hostile-worker WHEN FILE MARKER WORKER [ARG...]
 *
 * Given to an executor as its worker-argv. The first process started this
 * way creates MARKER (O_EXCL), writes its pid in it, and is hostile; every
 * later one execs WORKER ARG... (procexec-worker), a real worker, so the
 * pool can be seen going on afterwards.
 *
 * The hostile one speaks to the parent on its channel (fd
 * $PROCEXEC_CHANNEL_FD) and, WHEN
 *   hello      it has read the HELLO, sends the bytes of FILE (with
 *              +eof, but for a READY they start with: a frame cut short
 *              is then its whole answer, and it never becomes ready);
 *   run        it has read the HELLO, sends a proper READY, reads frames up
 *              to the first RUN or RUN_CHUNK, then sends the bytes of FILE
 *              (but for a READY they start with, which would be a second
 *              one: the corpus's inputs for the parent start with one).
 * A "+eof" suffix (hello+eof, run+eof) then shuts down its sending side, as
 * a worker exiting would, so that a frame cut short is a channel closed in
 * the middle of a message. FILE may be a "PXFD" container (fuzz-common.h):
 * its fds then go with the first bytes, as SCM_RIGHTS.
 *
 * Then it reads until the parent closes the channel, which a parent that
 * did its job never does first: it kills the worker. If the channel is
 * closed, it appends "eof" to MARKER and exits with status 3, so a test can
 * tell it was not killed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz-common.h"
#include "proc-protocol-private.h"

#define KIND_HELLO     1
#define KIND_RUN       2
#define KIND_RUN_CHUNK 3
#define KIND_READY     16

static G_NORETURN void
die (const char *what)
{
  fprintf (stderr, "proc-hostile-worker[%d]: %s: %s\n", (int) getpid (), what, g_strerror (errno));
  _exit (2);
}

static gboolean
read_full (int fd, guint8 *buf, gsize len)
{
  while (len > 0)
    {
      ssize_t n = read (fd, buf, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      buf += n;
      len -= (gsize) n;
    }
  return TRUE;
}

/* Reads one frame; returns its kind, or -1 at EOF. */
static int
read_frame (int fd)
{
  guint8 header[8];
  guint32 len;
  gsize padded;
  guint8 *payload;

  if (!read_full (fd, header, sizeof header))
    return -1;
  len = (guint32) header[0] | ((guint32) header[1] << 8) |
        ((guint32) header[2] << 16) | ((guint32) header[3] << 24);
  padded = ((gsize) len + 7) & ~(gsize) 7;
  payload = g_malloc (padded ? padded : 1);
  if (!read_full (fd, payload, padded))
    {
      g_free (payload);
      return -1;
    }
  g_free (payload);
  return header[4];
}

static void
send_all (int fd, const guint8 *data, gsize len, const int *fds, guint n_fds)
{
  while (len > 0)
    {
      struct iovec iov = { (void *) data, len };
      union {
        char buf[CMSG_SPACE (sizeof (int) * FUZZ_MAX_FDS)];
        struct cmsghdr align;
      } control;
      struct msghdr msg = { 0 };
      ssize_t n;

      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      if (n_fds > 0)
        {
          struct cmsghdr *cmsg;

          memset (control.buf, 0, CMSG_SPACE (sizeof (int) * n_fds));
          msg.msg_control = control.buf;
          msg.msg_controllen = CMSG_SPACE (sizeof (int) * n_fds);
          cmsg = CMSG_FIRSTHDR (&msg);
          cmsg->cmsg_level = SOL_SOCKET;
          cmsg->cmsg_type = SCM_RIGHTS;
          cmsg->cmsg_len = CMSG_LEN (sizeof (int) * n_fds);
          memcpy (CMSG_DATA (cmsg), fds, sizeof (int) * n_fds);
        }
      n = sendmsg (fd, &msg, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return;     /* the parent stopped reading: it is killing us */
      n_fds = 0;
      data += n;
      len -= (gsize) n;
    }
}

int
main (int argc, char **argv)
{
  const char *when, *file, *marker, *env;
  gboolean eof, after_run;
  char *contents = NULL;
  gsize size;
  GError *error = NULL;
  FuzzInput input;
  int fd, marker_fd;
  char pid_line[32];
  guint8 buf[256];
  static const guint8 ready[16] = { 4, 0, 0, 0, KIND_READY, 0, 0, 0,  PROC_PROTOCOL_VERSION, 0, 0, 0, 0, 0, 0, 0 };

  if (argc < 5)
    {
      fprintf (stderr, "usage: %s hello|run[+eof] FILE MARKER WORKER [ARG...]\n", argv[0]);
      return 2;
    }
  when = argv[1];
  file = argv[2];
  marker = argv[3];

  marker_fd = open (marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (marker_fd < 0)
    {
      if (errno != EEXIST)
        die ("open the marker");
      /* Not the first: a real worker. */
      execv (argv[4], argv + 4);
      die ("exec the real worker");
    }
  g_snprintf (pid_line, sizeof pid_line, "%d\n", (int) getpid ());
  if (write (marker_fd, pid_line, strlen (pid_line)) < 0)
    die ("write the marker");

  after_run = g_str_has_prefix (when, "run");
  eof = g_str_has_suffix (when, "+eof");
  if (!g_file_get_contents (file, &contents, &size, &error))
    {
      fprintf (stderr, "proc-hostile-worker: %s\n", error->message);
      return 2;
    }
  env = g_getenv ("PROCEXEC_CHANNEL_FD");
  fd = env != NULL ? atoi (env) : 3;

  if (read_frame (fd) != KIND_HELLO)
    die ("no HELLO");
  if (after_run)
    {
      int kind;

      send_all (fd, ready, sizeof ready, NULL, 0);
      do
        kind = read_frame (fd);
      while (kind >= 0 && kind != KIND_RUN && kind != KIND_RUN_CHUNK);
      if (kind < 0)
        die ("no RUN");
    }

  fuzz_input_open (&input, (const guint8 *) contents, size);
  /* After our own READY, a leading READY of the file would only
   * be a second one: drop it, and send what follows. A frame cut short
   * in answer to the HELLO goes without it too: after a READY, the
   * parent may give this worker the task before it sees the channel
   * closed (a later read), and the task would then die with it. */
  if ((after_run || eof) && input.stream_len >= sizeof ready &&
      memcmp (input.stream, ready, 12) == 0)
    {
      input.stream += sizeof ready;
      input.stream_len -= sizeof ready;
    }
  send_all (fd, input.stream, input.stream_len, input.fds, input.n_fds);
  fuzz_input_close (&input);
  if (eof)
    shutdown (fd, SHUT_WR);

  /* Wait to be killed. */
  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);

      if (n > 0 || (n < 0 && errno == EINTR))
        continue;
      break;
    }
  if (write (marker_fd, "eof\n", 4) < 0)
    die ("write the marker");
  _exit (3);
}
