/* proc-future-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gunixfdlist.h>

#include "proc-future.h"

G_BEGIN_DECLS

typedef struct _ProcPool ProcPool;
typedef struct _ProcWaiter ProcWaiter;
typedef struct _ProcCancelGuard ProcCancelGuard;

/* Called, without any lock held, once per future that completes while the
 * waiter is attached. */
typedef void (*ProcWaiterFunc) (ProcWaiter *waiter,
                                ProcFuture *future);

/* A waiter is attached to futures to hear of their completion. A blocking
 * waiter sleeps on @cond under the futures lock; an async one has @func. */
struct _ProcWaiter {
  GCond          cond;
  ProcWaiterFunc func;
  gpointer       data;
  guint          n_done;        /* completions seen, under the futures lock */
};

struct _ProcFuture {
  GObject           parent_instance;

  /* Set at creation, then read-only. */
  ProcPool         *pool;            /* owned */
  char             *task_name;
  GMainContext     *owner_context;   /* owned; signals and notify go here */
  gint64            timeout_usec;    /* 0: none */
  ProcCancelGuard  *cancel_guard;
  GCancellable     *cancellable;
  gulong            cancel_handler;
  guint64           id;
  guint             is_chunk : 1;

  /* Handed to the I/O thread; it clears them once the task is sent. */
  GVariant         *args;
  GUnixFDList      *fd_list;

  /* Under the futures lock. */
  ProcFutureState   state;
  guint             interrupted : 1;
  guint             notify_state_pending : 1;
  GVariant         *result;
  GUnixFDList      *result_fd_list;  /* set with @result, then read-only */
  GError           *error;
  GPid              worker_pid;
  double            progress;
  GSList           *waiters;         /* ProcWaiter, not owned */
  GSList           *callbacks;       /* DoneCallback, newest first */

  /* Owned by the I/O thread. */
  GList             link;            /* in the pool's queue */
  gboolean          reclaiming;      /* RECLAIM sent to its worker */
};

void        _proc_futures_lock         (void);
void        _proc_futures_unlock       (void);
void        _proc_futures_wait         (ProcWaiter  *waiter,
                                        gint64       end_time);

ProcFuture *_proc_future_new           (ProcPool     *pool,
                                        const char   *task,
                                        GVariant     *args,
                                        GUnixFDList  *fd_list,
                                        gint64        timeout_usec,
                                        GCancellable *cancellable,
                                        gboolean      is_chunk);
gboolean    _proc_future_mark_running  (ProcFuture   *self,
                                        GPid          worker_pid);
gboolean    _proc_future_complete      (ProcFuture   *self,
                                        GVariant     *result,
                                        GError       *error);
gboolean    _proc_future_complete_with_fds (ProcFuture  *self,
                                            GVariant    *result,
                                            GUnixFDList *result_fds);
gboolean    _proc_future_cancel_locked_pending (ProcFuture *self);
void        _proc_future_report_progress (ProcFuture *self,
                                          double      fraction,
                                          GVariant   *detail);
gboolean    _proc_future_is_done_locked (ProcFuture  *self);
gboolean    _proc_future_failed_locked  (ProcFuture  *self);

void        _proc_future_add_waiter_locked    (ProcFuture *self,
                                               ProcWaiter *waiter);
void        _proc_future_remove_waiter_locked (ProcFuture *self,
                                               ProcWaiter *waiter);

G_END_DECLS
