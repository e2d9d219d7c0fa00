/* proc-pool-private.h: the engine behind ProcExecutor
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "proc-future-private.h"

G_BEGIN_DECLS

typedef struct {
  char     **worker_argv;
  char     **modules;
  char      *initializer;
  GVariant  *initargs;
  guint      max_workers;
  guint      max_tasks_per_child;
  gint64     task_timeout;
  gint64     idle_timeout;
  gint64     cancel_grace;
  guint64    memory_limit;   /* RLIMIT_AS of workers, 0: none */
  guint64    max_rss;        /* recycle a worker above this after a task, 0: never */
} ProcPoolConfig;

typedef void (*ProcPoolNotifyFunc) (gpointer data);

ProcPool *_proc_pool_new                (const ProcPoolConfig *config,
                                         ProcPoolNotifyFunc    counters_changed,
                                         gpointer              data,
                                         GDestroyNotify        destroy);
ProcPool *_proc_pool_ref                (ProcPool   *self);
void      _proc_pool_unref              (ProcPool   *self);

gboolean  _proc_pool_submit             (ProcPool   *self,
                                         ProcFuture *future,
                                         GError    **error);
void      _proc_pool_interrupt          (ProcPool   *self,
                                         ProcFuture *future);
void      _proc_pool_read_until_done    (ProcPool   *self,
                                         ProcFuture *future,
                                         gint64      end_time);
void      _proc_pool_shutdown           (ProcPool   *self,
                                         gboolean    wait,
                                         gboolean    cancel_futures);
void      _proc_pool_on_finished        (ProcPool   *self,
                                         GTask      *task);
void      _proc_pool_signal_workers     (ProcPool   *self,
                                         gboolean    kill);
void      _proc_pool_detach_notify      (ProcPool   *self);
void      _proc_pool_set_broken         (ProcPool     *self,
                                         const GError *error);
void      _proc_pool_clear_counters_dirty (ProcPool *self);

void      _proc_pool_set_max_workers    (ProcPool   *self,
                                         guint       max_workers);
void      _proc_pool_set_task_timeout   (ProcPool   *self,
                                         gint64      usec);
void      _proc_pool_set_idle_timeout   (ProcPool   *self,
                                         gint64      usec);
void      _proc_pool_set_cancel_grace   (ProcPool   *self,
                                         gint64      usec);
gint64    _proc_pool_get_task_timeout   (ProcPool   *self);

guint     _proc_pool_get_n_workers      (ProcPool   *self);
guint     _proc_pool_get_n_pending      (ProcPool   *self);
guint     _proc_pool_get_n_running      (ProcPool   *self);
guint64   _proc_pool_get_n_completed    (ProcPool   *self);
gboolean  _proc_pool_is_broken          (ProcPool   *self);
gboolean  _proc_pool_is_shutdown        (ProcPool   *self);

/* Called by futures on their state changes. */
void      _proc_pool_count_transition   (ProcPool        *self,
                                         ProcFutureState  from,
                                         ProcFutureState  to);

G_END_DECLS
