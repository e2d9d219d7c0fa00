/* fuzz-input.c: an input's stream and the fds it describes (see
 * fuzz-common.h for the format)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz-common.h"

#ifndef F_SEAL_FUTURE_WRITE
# define F_SEAL_FUTURE_WRITE 0x0010
#endif

#define PIPE_CONTENT_MAX 4096
#define PAGE             4096

typedef struct {
  const guint8 *p;
  gsize         left;
} Reader;

static gboolean
read_u8 (Reader *r, guint8 *v)
{
  if (r->left < 1)
    return FALSE;
  *v = r->p[0];
  r->p++;
  r->left--;
  return TRUE;
}

static gboolean
read_u32 (Reader *r, guint32 *v)
{
  if (r->left < 4)
    return FALSE;
  *v = (guint32) r->p[0] | ((guint32) r->p[1] << 8) |
       ((guint32) r->p[2] << 16) | ((guint32) r->p[3] << 24);
  r->p += 4;
  r->left -= 4;
  return TRUE;
}

/* The next min (@len, what is left) bytes. */
static const guint8 *
read_content (Reader *r, guint32 len, gsize *got)
{
  const guint8 *start = r->p;

  *got = MIN ((gsize) len, r->left);
  r->p += *got;
  r->left -= *got;
  return start;
}

void
fuzz_fail (const char *format,
           ...)
{
  va_list ap;

  va_start (ap, format);
  vfprintf (stderr, format, ap);
  va_end (ap);
  fputc ('\n', stderr);
  fflush (stderr);
  abort ();
}

static G_NORETURN void
system_failed (const char *what)
{
  fuzz_fail ("fuzz input: %s failed: %s", what, g_strerror (errno));
}

static void
write_all (int fd, const guint8 *data, gsize len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        system_failed ("write");
      data += n;
      len -= (gsize) n;
    }
}

static int
make_memfd (guint         flags,
            const guint8 *content,
            gsize         len,
            gsize         size,
            int           seals)
{
  int fd = memfd_create ("fuzz-payload", MFD_CLOEXEC | flags);

  if (fd < 0)
    system_failed ("memfd_create");
  write_all (fd, content, len);
  if (size > len && ftruncate (fd, (off_t) size) < 0)
    system_failed ("ftruncate");
  if (seals & ~F_SEAL_SEAL)
    {
      /* F_SEAL_FUTURE_WRITE needs Linux 5.1; without it, go on unsealed. */
      if (fcntl (fd, F_ADD_SEALS, seals & ~F_SEAL_SEAL) < 0 && errno != EINVAL)
        system_failed ("F_ADD_SEALS");
    }
  if ((seals & F_SEAL_SEAL) && fcntl (fd, F_ADD_SEALS, F_SEAL_SEAL) < 0)
    system_failed ("F_ADD_SEALS (F_SEAL_SEAL)");
  return fd;
}

static int
seals_from_bits (guint8 bits)
{
  int seals = 0;

  if (bits & 1)
    seals |= F_SEAL_SEAL;
  if (bits & 2)
    seals |= F_SEAL_SHRINK;
  if (bits & 4)
    seals |= F_SEAL_GROW;
  if (bits & 8)
    seals |= F_SEAL_WRITE;
  if (bits & 16)
    seals |= F_SEAL_FUTURE_WRITE;
  return seals;
}

static int
open_devnull (void)
{
  int fd = open ("/dev/null", O_RDWR | O_CLOEXEC);

  if (fd < 0)
    system_failed ("open /dev/null");
  return fd;
}

static int
make_fd (FuzzInput *input, Reader *r)
{
  guint8 type, seals, pages;
  guint32 len;
  const guint8 *content;
  gsize got;
  int fd;

  if (!read_u8 (r, &type))
    return -1;

  switch ((FuzzFdType) (type & 7))
    {
    case FUZZ_FD_SEALED_MEMFD:
      if (!read_u32 (r, &len))
        return -1;
      content = read_content (r, len, &got);
      input->fd_bytes += got;
      return make_memfd (MFD_ALLOW_SEALING, content, got, got,
                         F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);

    case FUZZ_FD_MEMFD:
      if (!read_u8 (r, &seals) || !read_u8 (r, &pages) || !read_u32 (r, &len))
        return -1;
      content = read_content (r, len, &got);
      input->fd_bytes += got + (gsize) pages * PAGE;
      return make_memfd (MFD_ALLOW_SEALING, content, got, got + (gsize) pages * PAGE,
                         seals_from_bits (seals));

    case FUZZ_FD_PIPE:
      {
        int p[2];

        if (!read_u32 (r, &len))
          return -1;
        content = read_content (r, len, &got);
        if (pipe2 (p, O_CLOEXEC) < 0)
          system_failed ("pipe2");
        write_all (p[1], content, MIN (got, (gsize) PIPE_CONTENT_MAX));
        close (p[1]);
        return p[0];
      }

    case FUZZ_FD_DEVNULL:
      return open_devnull ();

    case FUZZ_FD_SOCKET:
      {
        int sv[2];

        if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
          system_failed ("socketpair");
        close (sv[1]);
        return sv[0];
      }

    case FUZZ_FD_DUP:
      fd = input->n_fds > 0 ? fcntl (input->fds[input->n_fds - 1], F_DUPFD_CLOEXEC, 0)
                            : open_devnull ();
      if (fd < 0)
        system_failed ("dup");
      return fd;

    case FUZZ_FD_FILE:
      if (!read_u32 (r, &len))
        return -1;
      content = read_content (r, len, &got);
      input->fd_bytes += got;
      fd = open (g_get_tmp_dir (), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
      if (fd < 0)
        return open_devnull ();   /* a file system without O_TMPFILE */
      write_all (fd, content, got);
      return fd;

    case FUZZ_FD_UNSEALABLE:
      if (!read_u32 (r, &len))
        return -1;
      content = read_content (r, len, &got);
      input->fd_bytes += got;
      return make_memfd (0, content, got, got, 0);

    default:
      g_assert_not_reached ();
    }
}

void
fuzz_input_open (FuzzInput    *input,
                 const guint8 *data,
                 gsize         size)
{
  Reader r;
  guint8 n;

  memset (input, 0, sizeof *input);

  if (size < FUZZ_FD_MAGIC_LEN || memcmp (data, FUZZ_FD_MAGIC, FUZZ_FD_MAGIC_LEN) != 0)
    {
      input->stream = data;
      input->stream_len = size;
      return;
    }

  r.p = data + FUZZ_FD_MAGIC_LEN;
  r.left = size - FUZZ_FD_MAGIC_LEN;
  if (read_u8 (&r, &n))
    {
      n %= FUZZ_MAX_FDS + 1;
      while (input->n_fds < n)
        {
          int fd = make_fd (input, &r);

          if (fd < 0)
            break;      /* the description is cut short */
          input->fds[input->n_fds++] = fd;
        }
    }
  input->stream = r.p;
  input->stream_len = r.left;
}

void
fuzz_input_assert_closed (FuzzInput *input)
{
  for (guint i = 0; i < input->n_fds; i++)
    fuzz_check (fcntl (input->fds[i], F_GETFD) < 0 && errno == EBADF,
                "fd %d (number %u of the input) is still open: the channel leaked it",
                input->fds[i], i);
}

void
fuzz_input_close (FuzzInput *input)
{
  for (guint i = 0; i < input->n_fds; i++)
    close (input->fds[i]);
  input->n_fds = 0;
}

void
fuzz_input_add_memfd (GByteArray   *out,
                      FuzzFdType    type,
                      guint8        seals,
                      guint8        pages,
                      const guint8 *content,
                      guint32       len)
{
  guint8 t = (guint8) type;
  guint8 le[4] = { (guint8) len, (guint8) (len >> 8), (guint8) (len >> 16), (guint8) (len >> 24) };

  g_byte_array_append (out, &t, 1);
  if (type == FUZZ_FD_MEMFD)
    {
      g_byte_array_append (out, &seals, 1);
      g_byte_array_append (out, &pages, 1);
    }
  if (type == FUZZ_FD_SEALED_MEMFD || type == FUZZ_FD_MEMFD || type == FUZZ_FD_PIPE ||
      type == FUZZ_FD_FILE || type == FUZZ_FD_UNSEALABLE)
    {
      g_byte_array_append (out, le, 4);
      g_byte_array_append (out, content, len);
    }
}
