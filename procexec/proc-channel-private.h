/* proc-channel-private.h: framed messages over a byte stream, with fd passing
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>
#include <gio/gunixfdlist.h>

G_BEGIN_DECLS

/* Payloads larger than this travel in a sealed memfd when the channel can
 * pass fds; received inline payloads larger than the limit are refused. */
#define PROC_CHANNEL_MEMFD_THRESHOLD  (64 * 1024)
#define PROC_CHANNEL_MAX_INLINE       (1024 * 1024)
#define PROC_CHANNEL_MAX_INLINE_NOFD  (256 * 1024 * 1024)
#define PROC_CHANNEL_MAX_FDS_PER_FRAME 64

#define PROC_FRAME_HEADER_SIZE 8
#define PROC_FRAME_FLAG_MEMFD    (1 << 0)  /* the payload is in the first fd */
#define PROC_FRAME_FLAG_VALUE_FD (1 << 1)  /* a call's value is in the first fd */

typedef enum {
  PROC_CHANNEL_FLAGS_NONE           = 0,
  PROC_CHANNEL_FLAGS_PEER_IS_WORKER = 1 << 0,  /* decode worker → parent kinds */
  PROC_CHANNEL_FLAGS_NO_FD_PASSING  = 1 << 1,  /* a plain byte stream (pipe, TCP) */
} ProcChannelFlags;

typedef struct {
  guint8       kind;
  GVariant    *payload;  /* of proc_message_type (kind); for RESULT, the
                          * result itself, unboxed, its id being in @id */
  guint64      id;       /* RESULT, RUN and RUN_CHUNK: the call's id */
  const char  *name;     /* RUN and RUN_CHUNK: the task's name, owned by
                          * the payload */
  GVariant    *value;    /* RUN and RUN_CHUNK: the call's value, unboxed
                          * from the payload's `v` */
  GUnixFDList *fds;      /* fds that came with the frame, or NULL */
} ProcFrame;

typedef struct _ProcChannel ProcChannel;

ProcChannel *proc_channel_new             (int               fd,
                                           ProcChannelFlags  flags);
ProcChannel *proc_channel_new_for_fds     (int               in_fd,
                                           int               out_fd,
                                           ProcChannelFlags  flags);
void         proc_channel_free            (ProcChannel      *self);
int          proc_channel_get_fd          (ProcChannel      *self);

gboolean     proc_channel_queue           (ProcChannel      *self,
                                           guint8            kind,
                                           GVariant         *payload,
                                           GUnixFDList      *fds,
                                           GError          **error);
gboolean     proc_channel_queue_call      (ProcChannel      *self,
                                           guint8            kind,
                                           guint64           id,
                                           const char       *name,
                                           GVariant         *value,
                                           GUnixFDList      *fds,
                                           GError          **error);
gboolean     proc_channel_has_output      (ProcChannel      *self);
gsize        proc_channel_get_output_size (ProcChannel      *self);
const guint8 *proc_channel_peek_output    (ProcChannel      *self);
guint        proc_channel_get_output_n_fds (ProcChannel     *self);
gboolean     proc_channel_flush           (ProcChannel      *self,
                                           gboolean          blocking,
                                           GError          **error);

gssize       proc_channel_fill            (ProcChannel      *self,
                                           GError          **error);
void         proc_channel_feed            (ProcChannel      *self,
                                           const guint8     *data,
                                           gsize             len,
                                           const int        *fds,
                                           guint             n_fds);
gboolean     proc_channel_next            (ProcChannel      *self,
                                           ProcFrame        *frame,
                                           GError          **error);
gboolean     proc_channel_has_partial_input (ProcChannel    *self);

void         proc_frame_clear             (ProcFrame        *frame);
const GVariantType *proc_frame_payload_type (guint8          kind);

G_END_DECLS
