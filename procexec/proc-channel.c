/* proc-channel.c: framed messages over a byte stream, with fd passing
 *
 * A frame is an 8-byte header — u32 payload length, u8 kind, u8 flags,
 * u16 number of fds, little endian — and a serialized GVariant padded to 8
 * bytes. Frames are batched: a flush writes every queued frame in as few
 * system calls as the kernel allows, and a fill reads as many as fit.
 *
 * fds ride as SCM_RIGHTS on the next sendmsg() after they are queued, so
 * they always arrive no later than the bytes of their frame; the receiver
 * keeps them in a FIFO and hands each frame the number its header claims.
 *
 * Large payloads leave the socket for a sealed memfd, the frame's first
 * fd: a whole payload (flag MEMFD), or only the value of a call — a task's
 * arguments or result — with its id, name and type inline (flag
 * VALUE_FD). The second lets a value that already is a sealed memfd (a
 * shared buffer) travel as itself, uncopied.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <glib-unix.h>

#include "proc-channel-private.h"
#include "proc-protocol-private.h"
#include "proc-shared-buffer-private.h"

#define READ_CHUNK     (64 * 1024)
#define MAX_FDS_PER_MSG 253      /* SCM_MAX_FD */
#define REQUIRED_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

struct _ProcChannel {
  int               fd;           /* read from; also written to unless out_fd differs */
  int               out_fd;
  ProcChannelFlags  flags;

  GByteArray       *out;
  gsize             out_pos;
  GArray           *out_fds;      /* fds to attach to the next sendmsg() */

  GByteArray       *in;
  gsize             in_pos;
  GArray           *in_fds;       /* received fds not yet claimed by a frame */
};

static void
close_fd_array (GArray *fds)
{
  for (guint i = 0; i < fds->len; i++)
    close (g_array_index (fds, int, i));
  g_array_set_size (fds, 0);
}

ProcChannel *
proc_channel_new (int              fd,
                  ProcChannelFlags flags)
{
  return proc_channel_new_for_fds (fd, fd, flags);
}

/* A channel over two one-way streams, such as a remote launcher's stdin
 * and stdout; only a socket can pass fds. */
ProcChannel *
proc_channel_new_for_fds (int              in_fd,
                          int              out_fd,
                          ProcChannelFlags flags)
{
  ProcChannel *self = g_new0 (ProcChannel, 1);

  if (in_fd != out_fd)
    flags |= PROC_CHANNEL_FLAGS_NO_FD_PASSING;
  self->fd = in_fd;
  self->out_fd = out_fd;
  self->flags = flags;
  self->out = g_byte_array_sized_new (4096);
  self->out_fds = g_array_new (FALSE, FALSE, sizeof (int));
  self->in = g_byte_array_sized_new (READ_CHUNK);
  self->in_fds = g_array_new (FALSE, FALSE, sizeof (int));

  return self;
}

void
proc_channel_free (ProcChannel *self)
{
  if (self == NULL)
    return;

  close_fd_array (self->out_fds);
  close_fd_array (self->in_fds);
  g_array_unref (self->out_fds);
  g_array_unref (self->in_fds);
  g_byte_array_unref (self->out);
  g_byte_array_unref (self->in);
  if (self->out_fd >= 0 && self->out_fd != self->fd)
    close (self->out_fd);
  if (self->fd >= 0)
    close (self->fd);
  g_free (self);
}

int
proc_channel_get_fd (ProcChannel *self)
{
  return self->fd;
}

static inline gsize
pad8 (gsize n)
{
  return (n + 7) & ~(gsize) 7;
}

static void
put_header (guint8 *p,
            guint32 len,
            guint8  kind,
            guint8  flags,
            guint16 n_fds)
{
  guint32 le_len = GUINT32_TO_LE (len);
  guint16 le_fds = GUINT16_TO_LE (n_fds);

  memcpy (p, &le_len, 4);
  p[4] = kind;
  p[5] = flags;
  memcpy (p + 6, &le_fds, 2);
}

/* Fills @fd with @size bytes gathered from @iov, at its start. write()
 * lets the kernel allocate and fill the pages in one pass, where a mapping
 * must fault (and zero) each page before the copy and be torn down after
 * it; but it needs the bytes already serialized. */
static gboolean
pwrite_all (int           fd,
            struct iovec *iov,
            int           n_iov,
            gsize         size)
{
  gsize done = 0;

  while (done < size)
    {
      ssize_t n = pwritev (fd, iov, n_iov, done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          if (n == 0)
            errno = EIO;
          return FALSE;
        }
      done += n;
      /* Skip what was written. */
      while (n_iov > 0 && (gsize) n >= iov->iov_len)
        {
          n -= iov->iov_len;
          iov++;
          n_iov--;
        }
      if (n_iov > 0)
        {
          iov->iov_base = (guint8 *) iov->iov_base + n;
          iov->iov_len -= n;
        }
    }
  return TRUE;
}

/* Serializes @payload straight into @fd, through a pre-faulted mapping
 * (far cheaper than a fault per page): a tree of GVariants has no bytes to
 * write() until it is serialized somewhere. The pages are allocated first,
 * so that running out of memory is an error rather than a SIGBUS. */
static gboolean
store_mapped (int       fd,
              GVariant *payload,
              gsize     size)
{
  void *map;

  if (fallocate (fd, 0, 0, size) < 0)
    return FALSE;
  map = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (map == MAP_FAILED)
    return FALSE;
  g_variant_store (payload, map);
  munmap (map, size);
  return TRUE;
}

/* A new sealed memfd of @size bytes: @payload serialized, or when it is
 * NULL, the bytes of @iov. */
static int
payload_to_memfd (GVariant      *payload,
                  struct iovec  *iov,
                  int            n_iov,
                  gsize          size,
                  GError       **error)
{
  int fd;

  fd = memfd_create ("procexec-payload", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd >= 0 &&
      (payload != NULL ? store_mapped (fd, payload, size) : pwrite_all (fd, iov, n_iov, size)) &&
      fcntl (fd, F_ADD_SEALS, REQUIRED_SEALS | F_SEAL_SEAL) == 0)
    return fd;

  {
    int saved = errno;
    if (fd >= 0)
      close (fd);
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                 "Could not put a payload of %" G_GSIZE_FORMAT " bytes in a memfd: %s",
                 size, g_strerror (saved));
    return -1;
  }
}

/* Queues @payload with @fds. A @first_fd (taken; -1 for none) is the memfd
 * of a call's value, which goes first among the frame's fds: see
 * queue_value_in_memfd(). */
static gboolean
queue_frame (ProcChannel  *self,
             guint8        kind,
             GVariant     *payload,
             int           first_fd,
             GUnixFDList  *fds,
             GError      **error)
{
  gsize size, len, start;
  guint n_fds = 0;
  guint8 flags = 0;
  gboolean ret = FALSE;

  g_variant_ref_sink (payload);
  len = size = g_variant_get_size (payload);

  if (fds != NULL)
    {
      if (self->flags & PROC_CHANNEL_FLAGS_NO_FD_PASSING)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               "This channel cannot pass file descriptors");
          goto out;
        }
      n_fds = g_unix_fd_list_get_length (fds);
      if (n_fds > PROC_CHANNEL_MAX_FDS_PER_FRAME)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "Too many file descriptors (%u, at most %u)",
                       n_fds, PROC_CHANNEL_MAX_FDS_PER_FRAME);
          goto out;
        }
    }

  /* The frame's first fd, if any: the memfd of a call's value (inline
   * head), or of a payload too large for the socket (nothing inline). */
  if (first_fd >= 0)
    flags = PROC_FRAME_FLAG_VALUE_FD;
  else if (size > PROC_CHANNEL_MEMFD_THRESHOLD &&
           !(self->flags & PROC_CHANNEL_FLAGS_NO_FD_PASSING))
    {
      first_fd = payload_to_memfd (payload, NULL, 0, size, error);
      if (first_fd < 0)
        goto out;
      flags = PROC_FRAME_FLAG_MEMFD;
      len = 0;
    }
  if (len > (flags != 0 ? PROC_CHANNEL_MAX_INLINE : G_MAXUINT32))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                           "Payload too large for this channel");
      goto out;
    }
  if (flags != 0)
    {
      n_fds++;
      g_array_append_val (self->out_fds, first_fd);
      first_fd = -1;
    }

  start = self->out->len;
  g_byte_array_set_size (self->out, start + PROC_FRAME_HEADER_SIZE + pad8 (len));
  put_header (self->out->data + start, len, kind, flags, n_fds);
  if (len > 0)
    {
      g_variant_store (payload, self->out->data + start + PROC_FRAME_HEADER_SIZE);
      memset (self->out->data + start + PROC_FRAME_HEADER_SIZE + len, 0, pad8 (len) - len);
    }

  if (fds != NULL)
    {
      for (gint i = 0; i < g_unix_fd_list_get_length (fds); i++)
        {
          int dup_fd = g_unix_fd_list_get (fds, i, error);

          if (dup_fd < 0)
            goto out;
          g_array_append_val (self->out_fds, dup_fd);
        }
    }

  ret = TRUE;

out:
  if (first_fd >= 0)
    close (first_fd);
  g_variant_unref (payload);
  return ret;
}

gboolean
proc_channel_queue (ProcChannel  *self,
                    guint8        kind,
                    GVariant     *payload,
                    GUnixFDList  *fds,
                    GError      **error)
{
  return queue_frame (self, kind, payload, -1, fds, error);
}

/* The value whose bytes are those of @value: @value itself, or the only
 * member of a tuple of one variable-size member, which GVariant serializes
 * as that member's bytes alone. Task arguments are often such a tuple
 * around one large array, made with g_variant_new_tuple(): asking the
 * tuple for its bytes would copy the array into a new buffer, asking the
 * array does not. */
static GVariant *
bytes_holder (GVariant *value)
{
  GVariant *holder = g_variant_ref (value);

  while (g_variant_is_of_type (holder, G_VARIANT_TYPE_TUPLE) &&
         g_variant_n_children (holder) == 1)
    {
      GVariant *member = g_variant_get_child_value (holder, 0);

      if (proc_type_is_fixed_size (g_variant_get_type (member)))
        {
          g_variant_unref (member);
          break;
        }
      g_variant_unref (holder);
      holder = member;
    }
  return holder;
}

/* The size of a GVariant container of @body bytes with @n_offsets framing
 * offsets, and the size of each offset (GVariant's serialization rule:
 * the smallest width that can address the whole container). */
static gsize
container_size (gsize  body,
                gsize  n_offsets,
                gsize *offset_size)
{
  if (body + n_offsets <= G_MAXUINT8)
    *offset_size = 1;
  else if (body + 2 * n_offsets <= G_MAXUINT16)
    *offset_size = 2;
  else if (body + 4 * n_offsets <= G_MAXUINT32)
    *offset_size = 4;
  else
    *offset_size = 8;
  return body + *offset_size * n_offsets;
}

/* Queues a call frame whose value travels in a memfd of its own: the
 * frame holds `(t id, s name, s type)` or `(t id, s type)`, the memfd the
 * value's bytes, and the receiver puts the two together. When those bytes
 * are a sealed shared region (proc-shared-buffer.c), its own memfd goes
 * and nothing is copied; otherwise they are written into a new one. */
static gboolean
queue_value_in_memfd (ProcChannel  *self,
                      guint8        kind,
                      guint64       id,
                      const char   *name,
                      GVariant     *value,
                      GUnixFDList  *fds,
                      GError      **error)
{
  GVariant *holder = bytes_holder (value);
  gconstpointer data = g_variant_get_data (holder);
  gsize size = g_variant_get_size (holder);
  const char *type = g_variant_get_type_string (value);
  GVariant *head = NULL;
  int memfd;

  memfd = _proc_shared_region_dup_fd (data, size);
  if (memfd < 0)
    {
      struct iovec iov = { (void *) data, size };

      memfd = payload_to_memfd (NULL, &iov, 1, size, error);
    }
  g_variant_unref (holder);

  if (memfd >= 0)
    head = name != NULL ? g_variant_new ("(tss)", id, name, type) : g_variant_new ("(ts)", id, type);
  g_variant_unref (value);
  return memfd >= 0 && queue_frame (self, kind, head, memfd, fds, error);
}

/* Queues a frame whose payload is `(t id, s name, v value)` — RUN and
 * RUN_CHUNK — or `(t id, v value)` — RESULT. This runs once per task: the
 * payload is written here in GVariant's normal form, straight into the
 * output buffer, instead of building a tuple of four GVariants only to
 * serialize it. Frames that need a memfd or carry fds take the general
 * path.
 */
gboolean
proc_channel_queue_call (ProcChannel  *self,
                         guint8        kind,
                         guint64       id,
                         const char   *name,
                         GVariant     *value,
                         GUnixFDList  *fds,
                         GError      **error)
{
  gsize value_size, type_len, name_len = 0, v_start, body, size, offset_size = 0, start;
  const char *type;
  guint8 *p;

  g_variant_ref_sink (value);
  value_size = g_variant_get_size (value);
  type = g_variant_get_type_string (value);
  type_len = strlen (type);
  if (name != NULL)
    {
      name_len = strlen (name);
      v_start = pad8 (8 + name_len + 1);
      body = v_start + value_size + 1 + type_len;
      /* One framing offset: the end of the string. The variant is last. */
      size = container_size (body, 1, &offset_size);
    }
  else
    {
      v_start = 8;
      body = size = v_start + value_size + 1 + type_len;
    }

  if (value_size > PROC_CHANNEL_MEMFD_THRESHOLD &&
      !(self->flags & PROC_CHANNEL_FLAGS_NO_FD_PASSING))
    return queue_value_in_memfd (self, kind, id, name, value, fds, error);

  if (fds != NULL || size > PROC_CHANNEL_MEMFD_THRESHOLD)
    {
      GVariant *fields[3];
      guint n = 0;
      gboolean ret;

      fields[n++] = g_variant_new_uint64 (id);
      if (name != NULL)
        fields[n++] = g_variant_new_string (name);
      fields[n++] = g_variant_new_variant (value);
      ret = proc_channel_queue (self, kind, g_variant_new_tuple (fields, n), fds, error);
      g_variant_unref (value);
      return ret;
    }

  start = self->out->len;
  g_byte_array_set_size (self->out, start + PROC_FRAME_HEADER_SIZE + pad8 (size));
  p = self->out->data + start;
  put_header (p, size, kind, 0, 0);
  p += PROC_FRAME_HEADER_SIZE;
  memset (p, 0, pad8 (size));

  memcpy (p, &id, 8);  /* GVariant data is in host byte order */
  if (name != NULL)
    memcpy (p + 8, name, name_len);  /* the NUL and the padding are the memset's */
  g_variant_store (value, p + v_start);
  memcpy (p + v_start + value_size + 1, type, type_len);
  if (name != NULL)
    {
      guint64 name_end = GUINT64_TO_LE (8 + name_len + 1);

      memcpy (p + body, &name_end, offset_size);
    }

  g_variant_unref (value);
  return TRUE;
}

gboolean
proc_channel_has_output (ProcChannel *self)
{
  return self->out_pos < self->out->len;
}

gsize
proc_channel_get_output_size (ProcChannel *self)
{
  return self->out->len - self->out_pos;
}

/* The proc_channel_get_output_size() bytes queued and not yet sent; valid
 * until the channel is used again. */
const guint8 *
proc_channel_peek_output (ProcChannel *self)
{
  return self->out->data + self->out_pos;
}

/* How many fds wait to go with the queued bytes. */
guint
proc_channel_get_output_n_fds (ProcChannel *self)
{
  return self->out_fds->len;
}

static gssize
send_some (ProcChannel *self)
{
  const guint8 *data = self->out->data + self->out_pos;
  gsize len = self->out->len - self->out_pos;
  guint n_fds = MIN (self->out_fds->len, MAX_FDS_PER_MSG);
  gssize n;

  /* A plain stream (pipe, TCP) has no MSG_NOSIGNAL: a process using one
   * must ignore SIGPIPE, as GIO's own sockets make it do. */
  if (self->flags & PROC_CHANNEL_FLAGS_NO_FD_PASSING)
    return write (self->out_fd, data, len);

  if (n_fds == 0)
    return send (self->out_fd, data, len, MSG_NOSIGNAL);

  {
    struct iovec iov = { (void *) data, len };
    union {
      char buf[CMSG_SPACE (sizeof (int) * MAX_FDS_PER_MSG)];
      struct cmsghdr align;
    } control;
    struct msghdr msg = { 0 };
    struct cmsghdr *cmsg;

    /* The padding after an odd number of fds goes out too. */
    memset (control.buf, 0, CMSG_SPACE (sizeof (int) * n_fds));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = CMSG_SPACE (sizeof (int) * n_fds);
    cmsg = CMSG_FIRSTHDR (&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN (sizeof (int) * n_fds);
    memcpy (CMSG_DATA (cmsg), self->out_fds->data, sizeof (int) * n_fds);

    n = sendmsg (self->out_fd, &msg, MSG_NOSIGNAL);
    if (n > 0)
      {
        /* The kernel holds its own references now. */
        for (guint i = 0; i < n_fds; i++)
          close (g_array_index (self->out_fds, int, i));
        g_array_remove_range (self->out_fds, 0, n_fds);
      }
    return n;
  }
}

gboolean
proc_channel_flush (ProcChannel  *self,
                    gboolean      blocking,
                    GError      **error)
{
  while (self->out_pos < self->out->len)
    {
      gssize n = send_some (self);

      if (n < 0)
        {
          int saved = errno;

          if (saved == EINTR)
            continue;
          if (saved == EAGAIN || saved == EWOULDBLOCK)
            {
              struct pollfd pfd = { self->out_fd, POLLOUT, 0 };

              if (!blocking)
                return TRUE;
              if (poll (&pfd, 1, -1) < 0 && errno != EINTR)
                saved = errno;
              else
                continue;
            }
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       "Could not write to the channel: %s", g_strerror (saved));
          return FALSE;
        }
      self->out_pos += n;
    }

  /* Everything is out: reuse the buffer from its start. */
  g_byte_array_set_size (self->out, 0);
  self->out_pos = 0;
  if (self->out->len == 0 && self->out_fds->len > 0)
    {
      /* Cannot happen: every fd is queued with a frame's bytes. */
      close_fd_array (self->out_fds);
    }

  return TRUE;
}

static void
compact_input (ProcChannel *self)
{
  if (self->in_pos == 0)
    return;
  if (self->in_pos < self->in->len)
    g_byte_array_remove_range (self->in, 0, self->in_pos);
  else
    g_byte_array_set_size (self->in, 0);
  self->in_pos = 0;
}

gssize
proc_channel_fill (ProcChannel  *self,
                   GError      **error)
{
  gsize old_len;
  gssize n;

  compact_input (self);
  old_len = self->in->len;
  g_byte_array_set_size (self->in, old_len + READ_CHUNK);

again:
  if (self->flags & PROC_CHANNEL_FLAGS_NO_FD_PASSING)
    {
      n = read (self->fd, self->in->data + old_len, READ_CHUNK);
    }
  else
    {
      struct iovec iov = { self->in->data + old_len, READ_CHUNK };
      union {
        char buf[CMSG_SPACE (sizeof (int) * MAX_FDS_PER_MSG)];
        struct cmsghdr align;
      } control;
      struct msghdr msg = { 0 };

      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control.buf;
      msg.msg_controllen = sizeof control.buf;

      n = recvmsg (self->fd, &msg, MSG_CMSG_CLOEXEC);
      if (n >= 0)
        {
          for (struct cmsghdr *cmsg = CMSG_FIRSTHDR (&msg);
               cmsg != NULL;
               cmsg = CMSG_NXTHDR (&msg, cmsg))
            {
              if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS)
                {
                  guint count = (cmsg->cmsg_len - CMSG_LEN (0)) / sizeof (int);
                  const int *fds = (const int *) CMSG_DATA (cmsg);

                  g_array_append_vals (self->in_fds, fds, count);
                }
            }
          if (msg.msg_flags & MSG_CTRUNC)
            {
              g_byte_array_set_size (self->in, old_len);
              g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                   "Too many file descriptors in one message");
              return -1;
            }
        }
    }

  if (n < 0)
    {
      int saved = errno;

      if (saved == EINTR)
        goto again;
      g_byte_array_set_size (self->in, old_len);
      g_set_error (error, G_IO_ERROR,
                   (saved == EAGAIN || saved == EWOULDBLOCK) ? G_IO_ERROR_WOULD_BLOCK
                                                           : g_io_error_from_errno (saved),
                   "Could not read from the channel: %s", g_strerror (saved));
      return -1;
    }

  g_byte_array_set_size (self->in, old_len + n);
  return n;
}

void
proc_channel_feed (ProcChannel  *self,
                   const guint8 *data,
                   gsize         len,
                   const int    *fds,
                   guint         n_fds)
{
  compact_input (self);
  g_byte_array_append (self->in, data, len);
  if (n_fds > 0)
    g_array_append_vals (self->in_fds, fds, n_fds);
}

gboolean
proc_channel_has_partial_input (ProcChannel *self)
{
  return self->in_pos < self->in->len;
}

static void
munmap_bytes (gpointer data)
{
  GBytes *holder = data;
  gsize size;
  gconstpointer map = g_bytes_get_data (holder, &size);

  munmap ((void *) map, size);
  g_bytes_unref (holder);
}

static GBytes *
bytes_from_memfd (int      fd,
                  GError **error)
{
  struct stat st;
  int seals;
  void *map;

  seals = fcntl (fd, F_GET_SEALS);
  if (seals < 0 || (seals & REQUIRED_SEALS) != REQUIRED_SEALS)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "Payload memfd is not sealed");
      return NULL;
    }
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || st.st_size < 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "Payload memfd is not a regular file");
      return NULL;
    }
  /* Senders put only large payloads in memfds. */
  if (st.st_size == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "Payload memfd is empty");
      return NULL;
    }
  /* An honest sender wrote every byte. A sparse memfd costs its sender
   * nothing and the receiver all of it once mapped. */
  if ((guint64) st.st_blocks * 512 < (guint64) st.st_size)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "Payload memfd of %" G_GINT64_FORMAT " bytes is sparse",
                   (gint64) st.st_size);
      return NULL;
    }

  /* Not pre-faulted: the pages are all there (the memfd is sealed and not
   * sparse), and a read fault maps the pages around it as well, so reading
   * every byte of a lazy mapping costs less than populating it (16 MiB:
   * 1.4 ms against 1.9-2.9 ms here), and a task that reads part of a
   * payload pays only for that part. */
  map = mmap (NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not map a payload memfd: %s", g_strerror (saved));
      return NULL;
    }

  /* A static GBytes describing the mapping owns it through the free func. */
  {
    GBytes *holder = g_bytes_new_static (map, st.st_size);
    return g_bytes_new_with_free_func (map, st.st_size, munmap_bytes, holder);
  }
}

/* The inline part of a frame whose call value is in a memfd (see
 * queue_value_in_memfd()), or NULL for kinds that are not calls. */
static const GVariantType *
value_head_type (guint8 kind)
{
  switch (kind)
    {
    case PROC_MSG_RUN:
    case PROC_MSG_RUN_CHUNK:
      return PROC_VARIANT_TYPE ("(tss)");
    case PROC_MSG_RESULT:
      return PROC_VARIANT_TYPE ("(ts)");
    default:
      return NULL;
    }
}

/* Puts a call frame back together from its inline @head and its value's
 * bytes, into the payload an all-inline frame of @kind would have. The
 * payload is a tree of GVariants around the mapped value: nothing is
 * copied or serialized again. */
static gboolean
assemble_call (ProcFrame  *frame,
               guint8      kind,
               GBytes     *head_bytes,
               GBytes     *value_bytes,
               gboolean    untrusted,
               GError    **error)
{
  g_autoptr(GVariant) head = g_variant_ref_sink (g_variant_new_from_bytes (value_head_type (kind), head_bytes, FALSE));
  g_autoptr(GVariant) id_v = g_variant_get_child_value (head, 0);
  g_autoptr(GVariant) type_v = g_variant_get_child_value (head, g_variant_n_children (head) - 1);
  const char *type = g_variant_get_string (type_v, NULL);
  GVariant *value;

  /* The type is a string, not a signature (`g`): signatures cannot hold
   * maybe types. It must be one definite type. */
  if ((untrusted && !g_variant_is_normal_form (head)) ||
      !g_variant_type_string_is_valid (type) ||
      !g_variant_type_is_definite ((const GVariantType *) type))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "A %s frame has a malformed head", proc_message_kind_name (kind));
      return FALSE;
    }

  value = g_variant_new_from_bytes ((const GVariantType *) type, value_bytes, FALSE);
  frame->kind = kind;
  if (kind == PROC_MSG_RESULT)
    {
      frame->id = g_variant_get_uint64 (id_v);
      frame->payload = g_variant_ref_sink (value);
    }
  else
    {
      g_autoptr(GVariant) name_v = g_variant_get_child_value (head, 1);
      GVariant *fields[3] = { id_v, name_v, NULL };

      frame->id = g_variant_get_uint64 (id_v);
      frame->name = g_variant_get_string (name_v, NULL);  /* the payload holds name_v */
      frame->value = g_variant_ref_sink (value);
      fields[2] = g_variant_new_variant (value);
      frame->payload = g_variant_ref_sink (g_variant_new_tuple (fields, 3));
    }
  return TRUE;
}

/* The value boxed in the serialized `v` that is @bytes from @start to @end:
 * the value's bytes, a zero byte, then its type string. Taken apart by
 * hand because g_variant_get_variant() checks the value's normal form
 * whatever the trust of its container (a second time, for a frame that
 * was checked whole) and needs one GVariant more. NULL with @error if the
 * type is not one definite type or, when @check, if the value is not in
 * normal form, which GVariant's own unboxing demands. */
static GVariant *
unbox_serialized (GBytes   *bytes,
                  gsize     start,
                  gsize     end,
                  gboolean  check,
                  GError  **error)
{
  const char *data = g_bytes_get_data (bytes, NULL);
  const char *type_string, *type_end;
  g_autoptr(GBytes) value_bytes = NULL;
  GVariant *value;
  gsize sep;

  for (sep = end; sep > start && data[sep - 1] != '\0'; sep--)
    ;
  type_string = data + sep;
  if (sep == start || sep == end ||
      !g_variant_type_string_scan (type_string, data + end, &type_end) || type_end != data + end ||
      !g_variant_type_is_definite ((const GVariantType *) type_string))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "A boxed value has no valid type");
      return NULL;
    }

  /* A GVariantType need not be NUL-terminated: the scan above bounds it. */
  value_bytes = g_bytes_new_from_bytes (bytes, start, sep - 1 - start);
  value = g_variant_ref_sink (g_variant_new_from_bytes ((const GVariantType *) type_string,
                                                        value_bytes, FALSE));
  if (check && !g_variant_is_normal_form (value))
    {
      g_variant_unref (value);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "A boxed value is not in GVariant normal form");
      return NULL;
    }
  return value;
}

/* A RESULT frame, (t id, v result): its id into @frame->id and its result,
 * unboxed, into @frame->payload. */
static gboolean
take_result (ProcFrame  *frame,
             GBytes     *bytes,
             gboolean    check,
             GError    **error)
{
  if (g_bytes_get_size (bytes) < 8)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "A RESULT frame is too short for its id");
      return FALSE;
    }
  memcpy (&frame->id, g_bytes_get_data (bytes, NULL), 8);
  frame->payload = unbox_serialized (bytes, 8, g_bytes_get_size (bytes), check, error);
  if (frame->payload == NULL)
    {
      g_prefix_error (error, "RESULT frame: ");
      return FALSE;
    }
  frame->kind = PROC_MSG_RESULT;
  return TRUE;
}

/* The offset of the end of the first variable-size member of a serialized
 * tuple of @size bytes: framing offsets are little-endian, of a width set
 * by the container's size, at its end. */
static gsize
first_framing_offset (const guint8 *data,
                      gsize         size,
                      gsize        *offset_size)
{
  gsize offset = 0;

  *offset_size = size > G_MAXUINT32 ? 8 : size > G_MAXUINT16 ? 4 : size > G_MAXUINT8 ? 2 : 1;
  for (gsize i = 0; i < *offset_size; i++)
    offset |= (gsize) data[size - *offset_size + i] << (8 * i);
  return offset;
}

/* The id, name and value of a RUN or RUN_CHUNK frame, (t id, s name,
 * v value), into @frame. Found in the serialized bytes by hand: through
 * GVariant, each field is a child to take out, three times a call. The
 * parent is trusted, but a frame that is not laid out as its frames are is
 * read as GVariant reads it. */
static void
take_call (ProcFrame *frame)
{
  g_autoptr(GBytes) bytes = g_variant_get_data_as_bytes (frame->payload);
  gsize size, name_end, value_start, value_end, offset_size;
  const guint8 *data = g_bytes_get_data (bytes, &size);

  if (size >= 8 + 1 + 1)
    {
      name_end = first_framing_offset (data, size, &offset_size);
      value_start = (name_end + 7) & ~(gsize) 7;
      value_end = size - offset_size;
      if (name_end > 8 && name_end <= value_end && value_start <= value_end &&
          data[name_end - 1] == '\0' && memchr (data + 8, '\0', name_end - 9) == NULL)
        {
          frame->value = unbox_serialized (bytes, value_start, value_end, FALSE, NULL);
          if (frame->value != NULL)
            {
              memcpy (&frame->id, data, 8);
              frame->name = (const char *) data + 8;
              return;
            }
        }
    }

  {
    g_autoptr(GVariant) name_v = g_variant_get_child_value (frame->payload, 1);

    g_variant_get_child (frame->payload, 0, "t", &frame->id);
    /* Points into the payload's bytes, as name_v does. */
    frame->name = g_variant_get_string (name_v, NULL);
    g_variant_get_child (frame->payload, 2, "v", &frame->value);
  }
}

gboolean
proc_channel_next (ProcChannel  *self,
                   ProcFrame    *frame,
                   GError      **error)
{
  const guint8 *hdr;
  guint32 len;
  guint16 n_fds;
  guint8 kind, flags;
  gsize avail, padded, max_inline;
  const GVariantType *type;
  gboolean from_worker = (self->flags & PROC_CHANNEL_FLAGS_PEER_IS_WORKER) != 0;
  GBytes *bytes = NULL, *fd_bytes = NULL;
  int *fds = NULL;

  memset (frame, 0, sizeof *frame);

  /* fds travel with the first bytes of their frame: more of them waiting
   * than one frame may carry is a peer trying to exhaust ours. */
  if (self->in_fds->len > PROC_CHANNEL_MAX_FDS_PER_FRAME + 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%u file descriptors arrived ahead of their frames", self->in_fds->len);
      return FALSE;
    }

  avail = self->in->len - self->in_pos;
  if (avail < PROC_FRAME_HEADER_SIZE)
    return FALSE;

  hdr = self->in->data + self->in_pos;
  memcpy (&len, hdr, 4);
  len = GUINT32_FROM_LE (len);
  kind = hdr[4];
  flags = hdr[5];
  memcpy (&n_fds, hdr + 6, 2);
  n_fds = GUINT16_FROM_LE (n_fds);

  max_inline = (self->flags & PROC_CHANNEL_FLAGS_NO_FD_PASSING)
               ? PROC_CHANNEL_MAX_INLINE_NOFD : PROC_CHANNEL_MAX_INLINE;

  /* Validate the header before waiting for (or allocating) the payload. */
  if (!proc_message_kind_is_valid (kind, from_worker))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "Unexpected message kind %u", kind);
      return FALSE;
    }
  if ((flags & ~(PROC_FRAME_FLAG_MEMFD | PROC_FRAME_FLAG_VALUE_FD)) != 0 ||
      flags == (PROC_FRAME_FLAG_MEMFD | PROC_FRAME_FLAG_VALUE_FD) ||
      n_fds > PROC_CHANNEL_MAX_FDS_PER_FRAME + (flags != 0 ? 1 : 0) ||
      len > max_inline ||
      ((flags & PROC_FRAME_FLAG_MEMFD) && (len != 0 || n_fds == 0)) ||
      ((flags & PROC_FRAME_FLAG_VALUE_FD) && (n_fds == 0 || value_head_type (kind) == NULL)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "Malformed %s frame header (length %u, flags 0x%x, %u fds)",
                   proc_message_kind_name (kind), len, flags, n_fds);
      return FALSE;
    }
  if (n_fds > 0 && (self->flags & PROC_CHANNEL_FLAGS_NO_FD_PASSING))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "A frame claims file descriptors on a channel without them");
      return FALSE;
    }

  padded = pad8 (len);
  if (avail < PROC_FRAME_HEADER_SIZE + padded)
    return FALSE;

  if (n_fds > self->in_fds->len)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "A %s frame claims %u file descriptors but %u arrived",
                   proc_message_kind_name (kind), n_fds, self->in_fds->len);
      return FALSE;
    }

  /* The frame is complete: take its bytes and fds off the queues. */
  if (n_fds > 0)
    {
      fds = g_memdup2 (self->in_fds->data, sizeof (int) * n_fds);
      g_array_remove_range (self->in_fds, 0, n_fds);
    }

  if (flags != 0)
    {
      fd_bytes = bytes_from_memfd (fds[0], error);
      close (fds[0]);
      memmove (fds, fds + 1, sizeof (int) * (n_fds - 1));
      n_fds--;
      if (fd_bytes == NULL)
        goto fail;
    }
  if (flags & PROC_FRAME_FLAG_MEMFD)
    bytes = g_steal_pointer (&fd_bytes);
  else
    bytes = g_bytes_new (hdr + PROC_FRAME_HEADER_SIZE, len);
  self->in_pos += PROC_FRAME_HEADER_SIZE + padded;

  type = proc_message_type (kind);
  if (flags & PROC_FRAME_FLAG_VALUE_FD)
    {
      gboolean ok = assemble_call (frame, kind, bytes, fd_bytes, from_worker, error);

      g_bytes_unref (bytes);
      g_bytes_unref (fd_bytes);
      if (!ok)
        goto fail;
      goto done;
    }
  if (kind == PROC_MSG_RESULT)
    {
      gboolean ok = take_result (frame, bytes, from_worker && !(flags & PROC_FRAME_FLAG_MEMFD), error);

      g_bytes_unref (bytes);
      if (!ok)
        goto fail;
      goto done;
    }
  frame->kind = kind;
  frame->payload = g_variant_ref_sink (g_variant_new_from_bytes (type, bytes, FALSE));
  g_bytes_unref (bytes);

  /* Data from a worker is untrusted: GVariant reads anything safely, but
   * values that are not in normal form trip assertions in some GLib 2.74
   * calls (g_variant_get_data_as_bytes) that callers may make later. The
   * check walks every element (about 25 ns a byte for `ay` in 2.74), so
   * it is made on inline frames only — at most 64 KiB from an honest
   * worker — and not on memfd payloads, where it would stall the I/O
   * thread for large results; readers of those check their types. */
  if (from_worker && !(flags & PROC_FRAME_FLAG_MEMFD) &&
      !g_variant_is_normal_form (frame->payload))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "A %s frame is not in GVariant normal form", proc_message_kind_name (kind));
      proc_frame_clear (frame);
      for (guint i = 0; i < n_fds; i++)
        close (fds[i]);
      g_free (fds);
      return FALSE;
    }
  if (kind == PROC_MSG_RUN || kind == PROC_MSG_RUN_CHUNK)
    take_call (frame);
done:
  if (n_fds > 0)
    frame->fds = g_unix_fd_list_new_from_array (fds, n_fds);
  g_free (fds);

  return TRUE;

fail:
  for (guint i = 0; i < n_fds; i++)
    close (fds[i]);
  g_free (fds);
  return FALSE;
}

/* The type of ProcFrame.payload for @kind: the message's, but any type for
 * a RESULT, whose payload is the result itself. */
const GVariantType *
proc_frame_payload_type (guint8 kind)
{
  return kind == PROC_MSG_RESULT ? G_VARIANT_TYPE_ANY : proc_message_type (kind);
}

void
proc_frame_clear (ProcFrame *frame)
{
  g_clear_pointer (&frame->payload, g_variant_unref);
  g_clear_pointer (&frame->value, g_variant_unref);
  frame->name = NULL;
  g_clear_object (&frame->fds);
  frame->kind = 0;
  frame->id = 0;
}
