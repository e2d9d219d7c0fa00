/* proc-async-deadline-private.h: one async wait bounded by a deadline
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The iterators' async waits end on three things: what they wait for, the
 * caller's cancellable, or their deadline. This folds the last two into
 * one cancellable to hand to the inner wait. */
typedef struct {
  GCancellable *cancellable;       /* trips on either; pass to the inner wait */
  GCancellable *user_cancellable;
  gulong        user_cancel_id;
  GSource      *timeout;
} ProcAsyncDeadline;

void     _proc_async_deadline_start          (ProcAsyncDeadline *self,
                                              GCancellable      *user_cancellable,
                                              gint64             deadline,
                                              GMainContext      *context);
gboolean _proc_async_deadline_user_cancelled (ProcAsyncDeadline *self);
void     _proc_async_deadline_clear          (ProcAsyncDeadline *self);

G_END_DECLS
