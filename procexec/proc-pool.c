/* proc-pool.c: the engine behind ProcExecutor
 *
 * A pool owns an I/O thread with a GMainContext of its own. Everything
 * about workers — spawning, channels, child watches, timers, scheduling —
 * is driven from that thread's sources, under @io_lock. Other threads talk
 * to it through a few queues under @lock and a wake-up source; while the
 * I/O thread sleeps, a thread may also take @io_lock and drive a worker
 * itself, which saves a hand-over between threads when latency matters:
 * submit() writes a task to an idle worker, and a thread blocked on a
 * running future reads that worker's replies. Spawning stays the I/O
 * thread's: GSubprocess reports exits in the thread-default context of
 * the spawning thread.
 *
 * Each worker runs the tasks it is sent in order, one at a time. The
 * parent keeps them in the worker's in-flight queue: its head is the task
 * running now; the others (sent ahead to save round trips when tasks are
 * short) have not started. So when a worker dies, only the head fails and
 * the rest go back to the front of the pool's queue.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>

#include "proc-channel-private.h"
#include "proc-enums.h"
#include "proc-pool-private.h"
#include "proc-protocol-private.h"

/* How many new workers may die before becoming ready, in a row, before
 * the pool gives up instead of respawning forever. */
#define MAX_EARLY_DEATHS 3
/* Tasks are sent ahead to a busy worker when they are observed to be
 * short: about WINDOW_USEC of work per worker, between 2 and MAX_WINDOW
 * tasks. Deeper windows batch more frames per system call; the time bound
 * keeps small what a worker holds while another is idle (and such tasks
 * are reclaimed: worker_reclaim_queued()). */
#define SHORT_TASK_USEC  2000
#define WINDOW_USEC      2000
#define MAX_WINDOW       64
/* A worker is read at most this many times per wake-up, to be fair. */
#define MAX_READS_PER_WAKE 8

typedef enum {
  WORKER_STARTING,   /* HELLO sent, READY not seen */
  WORKER_READY,
  WORKER_RETIRING,   /* EXIT sent: it finishes what it has, then exits */
  WORKER_DYING,      /* killed, or its channel closed: waiting for its exit */
} WorkerState;

typedef struct _Worker Worker;

typedef struct {
  GSource       source;
  ProcPool     *pool;
  Worker       *worker;
} WorkerSource;

/* Dispatched when another thread set @pending. Unlike a ready time, it
 * costs the I/O thread no wake-up of its own context to re-arm. */
typedef struct {
  GSource  source;
  gint     pending;        /* atomic */
} WakeSource;

struct _Worker {
  ProcPool    *pool;
  GSubprocess *process;
  GPid         pid;
  int          pidfd;           /* -1 when the kernel has none */
  ProcChannel *channel;
  int          result_log_fd;   /* memfd of the results it holds back, or -1 */
  /* The I/O thread polls an epoll set holding only the worker's socket,
   * not the socket itself: what it watches for can then change without
   * waking it up. */
  int          epoll_fd;
  guint32      epoll_events;    /* what the set watches the socket for */
  GSource     *source;
  WorkerState  state;
  gboolean     reading;         /* FALSE after a protocol error or EOF */
  gboolean     waiter_reading;  /* a thread waiting on a future reads it */
  int          waiter_wake_fd;  /* eventfd that waiter polls too, or -1 */
  gboolean     exited;          /* while waiter_reading: that thread frees it */
  gboolean     ready;           /* READY was seen */
  gboolean     init_failed;

  GQueue       inflight;        /* ProcFuture, head is running */
  guint        n_sent;          /* tasks sent, for max-tasks-per-child */
  gint64       head_started;

  GSource     *timeout_source;  /* per-task timeout of the head */
  GSource     *grace_source;    /* interrupted head: time to comply */
  GSource     *idle_source;     /* idle-timeout */

  ProcFuture  *kill_victim;     /* the task it was killed for */
  GError      *kill_error;      /* what the victim fails with */
};

struct _ProcPool {
  gatomicrefcount     ref;

  /* Immutable. */
  char              **worker_argv;
  char              **modules;
  char               *initializer;
  GVariant           *initargs;
  guint               max_tasks_per_child;
  guint64             memory_limit;
  guint64             max_rss;

  /* Settable from any thread. */
  guint               max_workers;     /* atomic */
  gint64              task_timeout;    /* under lock */
  gint64              idle_timeout;    /* under lock */
  gint64              cancel_grace;    /* under lock */

  GMutex              lock;            /* everything in this block */
  GCond               cond;
  GQueue              incoming;        /* ProcFuture (owned), not yet seen */
  GQueue              interrupts;      /* ProcFuture (owned) */
  gboolean            started;
  gboolean            shutdown;
  gboolean            cancel_on_shutdown;
  int                 signal_request;  /* 0, SIGTERM or SIGKILL */
  GError             *broken;
  gboolean            finished;        /* the I/O thread is done */
  GPtrArray          *finish_tasks;    /* GTask: shutdown_async callers */
  ProcPoolNotifyFunc  notify;
  gpointer            notify_data;
  GDestroyNotify      notify_destroy;

  gint                n_workers;       /* atomic */
  gint                n_pending;       /* atomic */
  gint                n_running;       /* atomic */
  guint64             n_completed;     /* atomic (pointer-sized add) */
  gint                counters_dirty;  /* atomic */

  GMainContext       *context;
  GSource            *wake_source;
  GThread            *thread;          /* under lock; joined by shutdown(wait) */

  /* Under io_lock, taken by each source of the I/O thread. Ordered before
   * @lock and the futures lock. */
  GMutex              io_lock;
  GQueue              queue;           /* ProcFuture (owned) via ->link */
  GList              *workers;
  guint               early_deaths;
  double              avg_task_usec;
  gboolean            io_done;
  gboolean            shutdown_seen;
};

static void pool_dispatch       (ProcPool *self);
static void wake_locked         (ProcPool *self);
static gboolean on_cancel_grace (gpointer data);
static GSource *add_timeout     (ProcPool *self, gint64 usec, GSourceFunc func, gpointer data);
static void pool_maybe_finish   (ProcPool *self);
static void worker_kill         (Worker *w, ProcFuture *victim, GError *error);
static void worker_kill_with_signal (Worker *w, ProcFuture *victim, GError *error, int signum);
static void worker_flush        (Worker *w);
static gboolean worker_reclaim_queued (Worker *w);
static gboolean pool_submit_to_idle_worker (ProcPool *self, ProcFuture *future);

/* ---- life cycle ---------------------------------------------------------- */

ProcPool *
_proc_pool_new (const ProcPoolConfig *config,
                ProcPoolNotifyFunc    counters_changed,
                gpointer              data,
                GDestroyNotify        destroy)
{
  ProcPool *self = g_new0 (ProcPool, 1);

  g_atomic_ref_count_init (&self->ref);
  self->worker_argv = g_strdupv (config->worker_argv);
  self->modules = g_strdupv (config->modules);
  self->initializer = g_strdup (config->initializer);
  self->initargs = config->initargs ? g_variant_ref_sink (config->initargs)
                                    : g_variant_ref_sink (g_variant_new ("()"));
  self->max_tasks_per_child = config->max_tasks_per_child;
  self->memory_limit = config->memory_limit;
  self->max_rss = config->max_rss;
  self->max_workers = MAX (config->max_workers, 1);
  self->task_timeout = config->task_timeout;
  self->idle_timeout = config->idle_timeout;
  self->cancel_grace = config->cancel_grace;
  self->notify = counters_changed;
  self->notify_data = data;
  self->notify_destroy = destroy;
  self->avg_task_usec = G_MAXDOUBLE;

  g_mutex_init (&self->lock);
  g_mutex_init (&self->io_lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->incoming);
  g_queue_init (&self->interrupts);
  g_queue_init (&self->queue);
  self->finish_tasks = g_ptr_array_new_with_free_func (g_object_unref);

  return self;
}

ProcPool *
_proc_pool_ref (ProcPool *self)
{
  g_atomic_ref_count_inc (&self->ref);
  return self;
}

void
_proc_pool_unref (ProcPool *self)
{
  if (!g_atomic_ref_count_dec (&self->ref))
    return;

  /* The I/O thread holds a reference until it is done, so by now every
   * worker is gone and every future resolved. */
  g_assert (self->workers == NULL);
  g_assert (g_queue_is_empty (&self->queue));
  g_assert (g_queue_is_empty (&self->incoming));

  if (self->notify_destroy)
    self->notify_destroy (self->notify_data);
  g_queue_clear_full (&self->interrupts, g_object_unref);
  g_strfreev (self->worker_argv);
  g_strfreev (self->modules);
  g_free (self->initializer);
  g_variant_unref (self->initargs);
  g_clear_error (&self->broken);
  g_ptr_array_unref (self->finish_tasks);
  /* Nobody waited for it: let it end on its own (this may be it). */
  if (self->thread != NULL)
    g_thread_unref (self->thread);
  if (self->wake_source != NULL)
    {
      g_source_destroy (self->wake_source);
      g_source_unref (self->wake_source);
    }
  g_clear_pointer (&self->context, g_main_context_unref);
  g_mutex_clear (&self->lock);
  g_mutex_clear (&self->io_lock);
  g_cond_clear (&self->cond);
  g_free (self);
}

/* Refuses work from the start, e.g. for a configuration that can never
 * run. */
void
_proc_pool_set_broken (ProcPool     *self,
                       const GError *error)
{
  g_mutex_lock (&self->lock);
  if (self->broken == NULL)
    self->broken = g_error_copy (error);
  g_mutex_unlock (&self->lock);
}

void
_proc_pool_detach_notify (ProcPool *self)
{
  gpointer data;
  GDestroyNotify destroy;

  g_mutex_lock (&self->lock);
  data = g_steal_pointer (&self->notify_data);
  destroy = g_steal_pointer (&self->notify_destroy);
  self->notify = NULL;
  g_mutex_unlock (&self->lock);

  if (destroy)
    destroy (data);
}

/* ---- counters ------------------------------------------------------------ */

static void
counters_changed (ProcPool *self)
{
  if (!g_atomic_int_compare_and_exchange (&self->counters_dirty, 0, 1))
    return;

  g_mutex_lock (&self->lock);
  if (self->notify != NULL)
    self->notify (self->notify_data);
  g_mutex_unlock (&self->lock);
}

/* The executor calls this from its notification, before reading. */
void
_proc_pool_clear_counters_dirty (ProcPool *self)
{
  g_atomic_int_set (&self->counters_dirty, 0);
}

void
_proc_pool_count_transition (ProcPool        *self,
                             ProcFutureState  from,
                             ProcFutureState  to)
{
  if (from == PROC_FUTURE_STATE_PENDING)
    g_atomic_int_add (&self->n_pending, -1);
  else if (from == PROC_FUTURE_STATE_RUNNING)
    g_atomic_int_add (&self->n_running, -1);

  if (to == PROC_FUTURE_STATE_RUNNING)
    g_atomic_int_inc (&self->n_running);
  else if (to == PROC_FUTURE_STATE_FINISHED)
    g_atomic_pointer_add (&self->n_completed, 1);

  counters_changed (self);
}

guint
_proc_pool_get_n_workers (ProcPool *self)
{
  return g_atomic_int_get (&self->n_workers);
}

guint
_proc_pool_get_n_pending (ProcPool *self)
{
  return MAX (g_atomic_int_get (&self->n_pending), 0);
}

guint
_proc_pool_get_n_running (ProcPool *self)
{
  return MAX (g_atomic_int_get (&self->n_running), 0);
}

guint64
_proc_pool_get_n_completed (ProcPool *self)
{
  return (guint64) g_atomic_pointer_get (&self->n_completed);
}

gboolean
_proc_pool_is_broken (ProcPool *self)
{
  gboolean broken;

  g_mutex_lock (&self->lock);
  broken = self->broken != NULL;
  g_mutex_unlock (&self->lock);

  return broken;
}

gboolean
_proc_pool_is_shutdown (ProcPool *self)
{
  gboolean shutdown;

  g_mutex_lock (&self->lock);
  shutdown = self->shutdown;
  g_mutex_unlock (&self->lock);

  return shutdown;
}

void
_proc_pool_set_max_workers (ProcPool *self,
                            guint     max_workers)
{
  g_atomic_int_set (&self->max_workers, MAX (max_workers, 1));
  g_mutex_lock (&self->lock);
  if (self->wake_source != NULL)
    wake_locked (self);
  g_mutex_unlock (&self->lock);
}

#define DEFINE_LOCKED_SETTER(field)                              \
  void                                                           \
  _proc_pool_set_##field (ProcPool *self, gint64 usec)           \
  {                                                              \
    g_mutex_lock (&self->lock);                                  \
    self->field = usec;                                          \
    g_mutex_unlock (&self->lock);                                \
  }

DEFINE_LOCKED_SETTER (task_timeout)
DEFINE_LOCKED_SETTER (idle_timeout)
DEFINE_LOCKED_SETTER (cancel_grace)

gint64
_proc_pool_get_task_timeout (ProcPool *self)
{
  gint64 usec;

  g_mutex_lock (&self->lock);
  usec = self->task_timeout;
  g_mutex_unlock (&self->lock);

  return usec;
}

static gint64
locked_get (ProcPool *self,
            gint64   *field)
{
  gint64 value;

  g_mutex_lock (&self->lock);
  value = *field;
  g_mutex_unlock (&self->lock);

  return value;
}

/* ---- the I/O thread ------------------------------------------------------ */

static gboolean
wake_source_prepare (GSource *source,
                     gint    *timeout)
{
  *timeout = -1;
  return g_atomic_int_get (&((WakeSource *) source)->pending);
}

static gboolean
wake_source_check (GSource *source)
{
  return g_atomic_int_get (&((WakeSource *) source)->pending);
}

static gboolean
wake_source_dispatch (GSource     *source,
                      GSourceFunc  callback,
                      gpointer     user_data)
{
  g_atomic_int_set (&((WakeSource *) source)->pending, FALSE);
  return callback (user_data);
}

static GSourceFuncs wake_source_funcs = {
  wake_source_prepare, wake_source_check, wake_source_dispatch, NULL, NULL, NULL,
};

static void
wake_locked (ProcPool *self)
{
  if (g_atomic_int_compare_and_exchange (&((WakeSource *) self->wake_source)->pending, FALSE, TRUE))
    g_main_context_wakeup (self->context);
}

static void
pool_wake_io_thread (ProcPool *self)
{
  g_mutex_lock (&self->lock);
  wake_locked (self);
  g_mutex_unlock (&self->lock);
}

static void
fail_future (ProcFuture *future,
             GError     *error)
{
  _proc_future_complete (future, NULL, error);
}

/* Takes @io_lock in a timer or worker source of the I/O thread. Another
 * thread holding it may have destroyed the source meanwhile (and maybe
 * armed a new one, or freed its worker): then FALSE, without the lock. */
static gboolean
io_lock_for_source (ProcPool *self)
{
  g_mutex_lock (&self->io_lock);
  if (g_source_is_destroyed (g_main_current_source ()))
    {
      g_mutex_unlock (&self->io_lock);
      return FALSE;
    }
  return TRUE;
}

static gboolean
on_wake (gpointer data)
{
  ProcPool *self = data;
  GQueue incoming = G_QUEUE_INIT;
  GQueue interrupts = G_QUEUE_INIT;
  int signal_request;
  gboolean cancel_pending;
  ProcFuture *future;

  g_mutex_lock (&self->io_lock);
  g_mutex_lock (&self->lock);
  incoming = self->incoming;
  g_queue_init (&self->incoming);
  interrupts = self->interrupts;
  g_queue_init (&self->interrupts);
  signal_request = self->signal_request;
  self->signal_request = 0;
  self->shutdown_seen = self->shutdown;
  cancel_pending = self->cancel_on_shutdown;
  g_mutex_unlock (&self->lock);

  while ((future = g_queue_pop_head (&incoming)))
    g_queue_push_tail_link (&self->queue, &future->link);

  if (cancel_pending)
    {
      /* Python's shutdown(cancel_futures=True): every PENDING future. */
      for (GList *l = self->queue.head; l != NULL; l = l->next)
        proc_future_cancel (l->data);
    }

  while ((future = g_queue_pop_head (&interrupts)))
    {
      gboolean found = FALSE;

      for (GList *wl = self->workers; wl != NULL; wl = wl->next)
        {
          Worker *w = wl->data;
          GList *link = g_queue_find (&w->inflight, future);

          if (link == NULL)
            continue;
          found = TRUE;

          if (w->state != WORKER_DYING)
            {
              g_autoptr(GError) error = NULL;

              if (!proc_channel_queue (w->channel, PROC_MSG_CANCEL,
                                       g_variant_new ("(t)", future->id), NULL, &error))
                g_warning ("Could not send a cancellation: %s", error->message);
              /* Running now: it has cancel-grace to comply, and the tasks
               * queued behind it go back to the pool, so that a kill at
               * the end of the grace cannot hit one of them. Tasks further
               * back get their grace when they start. */
              if (link == w->inflight.head && w->ready)
                {
                  if (w->grace_source == NULL)
                    w->grace_source = add_timeout (self, locked_get (self, &self->cancel_grace),
                                                   on_cancel_grace, w);
                  worker_reclaim_queued (w);
                }
              worker_flush (w);
            }
          break;
        }

      /* Sent back to the queue after its worker died before starting it. */
      if (!found && (future->link.prev != NULL || self->queue.head == &future->link))
        {
          g_queue_unlink (&self->queue, &future->link);
          fail_future (future, g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                            "Task “%s” was interrupted", future->task_name));
          g_object_unref (future);
        }
      g_object_unref (future);
    }

  if (signal_request != 0)
    {
      for (GList *wl = self->workers; wl != NULL; wl = wl->next)
        {
          Worker *w = wl->data;
          ProcFuture *head = g_queue_peek_head (&w->inflight);

          GError *error = g_error_new (PROC_ERROR, PROC_ERROR_WORKER_DIED,
                                       "Worker %d was %s by the executor", (int) w->pid,
                                       signal_request == SIGKILL ? "killed" : "terminated");

          worker_kill_with_signal (w, head, error, signal_request);
        }
    }

  pool_dispatch (self);
  pool_maybe_finish (self);
  g_mutex_unlock (&self->io_lock);

  return G_SOURCE_CONTINUE;
}

static gpointer
io_thread_func (gpointer data)
{
  ProcPool *self = data;
  GPtrArray *tasks;

  g_main_context_push_thread_default (self->context);
  while (!self->io_done)
    g_main_context_iteration (self->context, TRUE);
  g_main_context_pop_thread_default (self->context);

  g_mutex_lock (&self->lock);
  self->finished = TRUE;
  g_cond_broadcast (&self->cond);
  tasks = g_steal_pointer (&self->finish_tasks);
  self->finish_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  g_mutex_unlock (&self->lock);

  for (guint i = 0; i < tasks->len; i++)
    g_task_return_boolean (g_ptr_array_index (tasks, i), TRUE);
  g_ptr_array_unref (tasks);

  _proc_pool_unref (self);
  return NULL;
}

/* Under @lock. */
static void
ensure_started_locked (ProcPool *self)
{
  if (self->started)
    return;

  self->started = TRUE;
  self->context = g_main_context_new ();
  self->wake_source = g_source_new (&wake_source_funcs, sizeof (WakeSource));
  g_source_set_callback (self->wake_source, on_wake, self, NULL);
  g_source_set_static_name (self->wake_source, "[procexec] wake-up");
  g_source_attach (self->wake_source, self->context);

  self->thread = g_thread_new ("procexec-io", io_thread_func, _proc_pool_ref (self));
}

gboolean
_proc_pool_submit (ProcPool    *self,
                   ProcFuture  *future,
                   GError     **error)
{
  /* Free unless the I/O thread is at work: this thread may then send the
   * task itself. Only tried when the counters (read without a lock: a
   * hint) say that nothing is pending, which would go first, and that a
   * worker may be idle: in a burst of submissions, or with every worker
   * busy, it would only contend with the I/O thread. */
  gboolean have_io_lock = g_atomic_int_get (&self->n_pending) == 0 &&
                          g_atomic_int_get (&self->n_running) < g_atomic_int_get (&self->n_workers) &&
                          g_mutex_trylock (&self->io_lock);
  gboolean sent = FALSE;

  g_mutex_lock (&self->lock);
  if (self->broken != NULL || self->shutdown)
    {
      if (self->broken != NULL)
        g_set_error (error, PROC_ERROR, PROC_ERROR_BROKEN,
                     "The pool is broken: %s", self->broken->message);
      else
        g_set_error_literal (error, PROC_ERROR, PROC_ERROR_SHUTDOWN,
                             "Cannot schedule new tasks after shutdown");
      g_mutex_unlock (&self->lock);
      if (have_io_lock)
        g_mutex_unlock (&self->io_lock);
      return FALSE;
    }

  ensure_started_locked (self);
  g_atomic_int_inc (&self->n_pending);
  /* Whatever happens meanwhile, the I/O thread cannot finish while we
   * hold io_lock: a task queued below is still seen. */
  if (have_io_lock && g_queue_is_empty (&self->incoming))
    {
      g_mutex_unlock (&self->lock);
      sent = pool_submit_to_idle_worker (self, future);
      g_mutex_lock (&self->lock);
    }
  if (!sent)
    {
      g_queue_push_tail (&self->incoming, g_object_ref (future));
      if (self->incoming.length == 1)
        wake_locked (self);
    }
  g_mutex_unlock (&self->lock);
  if (have_io_lock)
    g_mutex_unlock (&self->io_lock);

  counters_changed (self);
  return TRUE;
}

void
_proc_pool_interrupt (ProcPool   *self,
                      ProcFuture *future)
{
  g_mutex_lock (&self->lock);
  if (self->started && !self->finished)
    {
      g_queue_push_tail (&self->interrupts, g_object_ref (future));
      wake_locked (self);
    }
  g_mutex_unlock (&self->lock);
}

void
_proc_pool_shutdown (ProcPool *self,
                     gboolean  wait,
                     gboolean  cancel_futures)
{
  GQueue cancelled = G_QUEUE_INIT;
  ProcFuture *future;

  g_mutex_lock (&self->lock);
  self->shutdown = TRUE;
  if (cancel_futures)
    {
      /* Cancel what the I/O thread has not seen yet right here, so that
       * shutdown(wait=FALSE, cancel_futures=TRUE) resolves them at once. */
      self->cancel_on_shutdown = TRUE;
      cancelled = self->incoming;
      g_queue_init (&self->incoming);
    }
  if (!self->started)
    self->finished = TRUE;
  else if (!self->finished)
    wake_locked (self);
  g_mutex_unlock (&self->lock);

  while ((future = g_queue_pop_head (&cancelled)))
    {
      proc_future_cancel (future);
      g_object_unref (future);
    }

  if (wait)
    {
      GThread *thread;

      g_mutex_lock (&self->lock);
      while (!self->finished)
        g_cond_wait (&self->cond, &self->lock);
      thread = g_steal_pointer (&self->thread);
      g_mutex_unlock (&self->lock);

      /* Returns once the I/O thread let go of everything it held. */
      if (thread != NULL)
        g_thread_join (thread);
    }
}

void
_proc_pool_on_finished (ProcPool *self,
                        GTask    *task)
{
  gboolean finished;

  g_mutex_lock (&self->lock);
  finished = self->finished;
  if (!finished)
    g_ptr_array_add (self->finish_tasks, g_object_ref (task));
  g_mutex_unlock (&self->lock);

  if (finished)
    g_task_return_boolean (task, TRUE);
}

void
_proc_pool_signal_workers (ProcPool *self,
                           gboolean  kill)
{
  g_mutex_lock (&self->lock);
  if (self->started && !self->finished)
    {
      self->signal_request = kill ? SIGKILL : SIGTERM;
      wake_locked (self);
    }
  g_mutex_unlock (&self->lock);
}

/* ---- breaking ------------------------------------------------------------ */

/* Fails every queued future, with @error's code when it is SPAWN (the
 * futures could not run for that very reason) and BROKEN otherwise. */
static void
pool_break (ProcPool *self,
            GError   *error)
{
  gint code = g_error_matches (error, PROC_ERROR, PROC_ERROR_SPAWN)
              ? PROC_ERROR_SPAWN : PROC_ERROR_BROKEN;
  ProcFuture *future;
  GList *link;

  g_mutex_lock (&self->lock);
  if (self->broken == NULL)
    self->broken = g_error_copy (error);
  g_mutex_unlock (&self->lock);

  while ((link = g_queue_pop_head_link (&self->queue)))
    {
      future = link->data;
      fail_future (future, g_error_new (PROC_ERROR, code,
                                        "The pool is broken: %s", error->message));
      g_object_unref (future);
    }

  g_error_free (error);
}

/* Puts a future that a worker never started back in the queue, in
 * submission order (ids grow with submission). */
static void
requeue_future (ProcPool   *self,
                ProcFuture *future)
{
  GList *l = self->queue.head;

  future->reclaiming = FALSE;
  while (l != NULL && ((ProcFuture *) l->data)->id < future->id)
    l = l->next;
  if (l == NULL)
    g_queue_push_tail_link (&self->queue, &future->link);
  else
    g_queue_insert_before_link (&self->queue, l, &future->link);
}

/* ---- workers: output ----------------------------------------------------- */

static void
worker_update_events (Worker *w)
{
  struct epoll_event event = { 0 };
  int op;

  if (w->reading && !w->waiter_reading)
    event.events |= EPOLLIN;   /* EPOLLHUP and EPOLLERR come anyway */
  if (proc_channel_has_output (w->channel))
    event.events |= EPOLLOUT;

  if (event.events == w->epoll_events)
    return;
  op = event.events == 0 ? EPOLL_CTL_DEL : w->epoll_events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
  if (epoll_ctl (w->epoll_fd, op, proc_channel_get_fd (w->channel), &event) < 0)
    {
      /* Out of memory or of epoll watches: a worker nobody can hear is
       * of no use. */
      g_warning ("Could not watch the channel of worker %d: %s", (int) w->pid, g_strerror (errno));
      w->reading = FALSE;
      worker_kill (w, NULL, NULL);
      return;
    }
  w->epoll_events = event.events;
}

static void
worker_flush (Worker *w)
{
  g_autoptr(GError) error = NULL;

  if (!proc_channel_flush (w->channel, FALSE, &error))
    {
      /* The worker is gone or going: its exit will be handled. */
      g_clear_error (&error);
      worker_kill (w, NULL, NULL);
      return;
    }
  worker_update_events (w);
}

/* ---- workers: death ------------------------------------------------------ */

static char *
describe_exit (GPid pid,
               int  status)
{
  if (WIFSIGNALED (status))
    return g_strdup_printf ("Worker %d was killed by signal %d (%s)%s",
                            (int) pid, WTERMSIG (status), g_strsignal (WTERMSIG (status)),
                            WCOREDUMP (status) ? ", core dumped" : "");
  if (WIFEXITED (status))
    return g_strdup_printf ("Worker %d exited with status %d", (int) pid, WEXITSTATUS (status));
  return g_strdup_printf ("Worker %d ended (wait status 0x%x)", (int) pid, status);
}

static void
clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

static void
worker_free (Worker *w)
{
  clear_source (&w->timeout_source);
  clear_source (&w->grace_source);
  clear_source (&w->idle_source);
  clear_source (&w->source);
  proc_channel_free (w->channel);
  close (w->epoll_fd);
  if (w->result_log_fd >= 0)
    close (w->result_log_fd);
  if (w->pidfd >= 0)
    close (w->pidfd);
  if (w->waiter_wake_fd >= 0)
    close (w->waiter_wake_fd);
  g_clear_object (&w->process);
  g_clear_object (&w->kill_victim);
  g_clear_error (&w->kill_error);
  g_free (w);
}

static void worker_process_input (Worker *w, guint max_reads);

static void worker_gone (Worker *w,
                         int     status);
static void worker_set_dying (Worker *w);
static void worker_handle_frame (Worker *w, ProcFrame *frame);

/* The wait status waitid() reported in @info, as waitpid() gives it. */
static int
wait_status_from_siginfo (const siginfo_t *info)
{
  switch (info->si_code)
    {
    case CLD_EXITED:
      return (info->si_status & 0xff) << 8;
    case CLD_KILLED:
      return info->si_status & 0x7f;
    case CLD_DUMPED:
      return (info->si_status & 0x7f) | 0x80;
    default:
      return 0;
    }
}

/* Blocks until the worker is a zombie, and reaps it. */
static void
reap_in_thread (GTask        *task,
                gpointer      source_object,
                gpointer      data,
                GCancellable *cancellable)
{
  Worker *w = data;
  siginfo_t info = { 0, };
  int ret;

  do
    ret = waitid (P_PIDFD, w->pidfd, &info, WEXITED);
  while (ret < 0 && errno == EINTR);
  g_task_return_int (task, ret == 0 ? wait_status_from_siginfo (&info) : 0);
}

static void
reaped_in_thread (GObject      *object,
                  GAsyncResult *result,
                  gpointer      data)
{
  worker_gone (data, (int) g_task_propagate_int (G_TASK (result), NULL));
}

static void
worker_exited (GObject      *object,
               GAsyncResult *result,
               gpointer      data)
{
  Worker *w = data;
  GSubprocess *process = G_SUBPROCESS (object);
  int status;

  g_subprocess_wait_finish (process, result, NULL);
  status = g_subprocess_get_status (process);

  /* GLib 2.74 watches a child through its pidfd, and takes the fd's
   * readiness for the child's end even when waitid() finds nothing to
   * reap yet (a process whose threads are still exiting): it then reports
   * a wait status of 0 and never reaps the zombie. The pool's own pidfd
   * reaps it: at once if it is a zombie already, else in a thread that
   * waits for it, so that no worker outlives its Worker, nor shutdown. */
  if (w->pidfd >= 0)
    {
      siginfo_t info = { 0, };

      if (waitid (P_PIDFD, w->pidfd, &info, WEXITED | WNOHANG) == 0)
        {
          if (info.si_pid == 0)
            {
              g_autoptr(GTask) task = g_task_new (NULL, NULL, reaped_in_thread, w);

              g_task_set_source_tag (task, worker_exited);
              g_task_set_task_data (task, w, NULL);
              g_task_run_in_thread (task, reap_in_thread);
              return;
            }
          status = wait_status_from_siginfo (&info);
        }
    }
  worker_gone (w, status);
}

/* Completes the tasks of @w, which died, whose results it held back (see
 * the result log in proc-protocol-private.h): the log's frames are those
 * results in order, some of them perhaps written to the socket too. */
static void
worker_recover_held_results (Worker *w)
{
  const ProcResultLogHeader *log;
  guint32 length;
  gboolean victim_in_flight;

  if (w->result_log_fd < 0 || g_queue_is_empty (&w->inflight))
    return;
  victim_in_flight = w->kill_victim != NULL && g_queue_find (&w->inflight, w->kill_victim) != NULL;
  log = mmap (NULL, PROC_RESULT_LOG_SIZE, PROT_READ, MAP_SHARED, w->result_log_fd, 0);
  if (log == MAP_FAILED)
    return;

  length = (guint32) g_atomic_int_get ((const gint *) &log->length);
  if (length <= PROC_RESULT_LOG_SIZE - sizeof *log)
    {
      /* Parsed as any frame from a worker is: the log is its to write. */
      ProcChannel *reader = proc_channel_new_for_fds (-1, -1, PROC_CHANNEL_FLAGS_PEER_IS_WORKER |
                                                              PROC_CHANNEL_FLAGS_NO_FD_PASSING);
      ProcFrame frame;

      proc_channel_feed (reader, (const guint8 *) (log + 1), length, NULL, 0);
      while (!g_queue_is_empty (&w->inflight) && proc_channel_next (reader, &frame, NULL))
        {
          ProcFuture *head = g_queue_peek_head (&w->inflight);

          /* Other frames were read from the socket already. */
          if (frame.kind == PROC_MSG_RESULT && frame.id == head->id)
            worker_handle_frame (w, &frame);
          proc_frame_clear (&frame);
        }
      proc_channel_free (reader);
    }
  munmap ((void *) log, PROC_RESULT_LOG_SIZE);

  if (victim_in_flight && g_queue_find (&w->inflight, w->kill_victim) == NULL &&
      g_error_matches (w->kill_error, PROC_ERROR, PROC_ERROR_PROTOCOL) &&
      g_queue_peek_head (&w->inflight) != NULL)
    {
      /* The task blamed for a malformed message had ended, its result
       * held back: the bytes came from the task that ran after it. */
      g_set_object (&w->kill_victim, g_queue_peek_head (&w->inflight));
    }
}

/* Fails or requeues what @w had, and forgets it: it is reaped and its
 * exit is described by @status. */
static void
worker_gone (Worker *w,
             int     status)
{
  ProcPool *self = w->pool;
  g_autofree char *description = NULL;
  gboolean early;
  ProcFuture *future;
  GList *requeue = NULL;
  guint index = 0;

  g_mutex_lock (&self->io_lock);
  description = describe_exit (w->pid, status);

  /* Whatever it wrote before dying is still in the socket, and what it
   * held back in its result log. */
  if (w->reading)
    worker_process_input (w, G_MAXUINT);
  worker_set_dying (w);
  worker_recover_held_results (w);

  early = !w->ready && !w->init_failed;

  /* The pool killed it for a task that ended meanwhile (its result was
   * still unread): the worker may have started the next one. */
  if (w->kill_victim != NULL && g_queue_find (&w->inflight, w->kill_victim) == NULL)
    {
      char *longer = g_strdup_printf ("%s (by the pool, for task “%s”, which ended as it was killed)",
                                      description, w->kill_victim->task_name);

      g_free (description);
      description = longer;
    }

  while ((future = g_queue_pop_head (&w->inflight)))
    {
      gboolean started = (index++ == 0) && w->ready;

      if (future == w->kill_victim && w->kill_error != NULL)
        fail_future (future, g_steal_pointer (&w->kill_error));
      else if (started)
        fail_future (future, g_error_new (PROC_ERROR, PROC_ERROR_WORKER_DIED,
                                          "%s while running task “%s”",
                                          description, future->task_name));
      else
        {
          requeue = g_list_prepend (requeue, future);
          continue;
        }
      g_object_unref (future);
    }

  /* Tasks it never started go back to the front, in order. */
  for (GList *l = requeue; l != NULL; l = l->next)
    requeue_future (self, l->data);
  g_list_free (requeue);

  self->workers = g_list_remove (self->workers, w);
  g_atomic_int_add (&self->n_workers, -1);
  counters_changed (self);

  if (early && !self->shutdown_seen)
    {
      self->early_deaths++;
      if (self->early_deaths >= MAX_EARLY_DEATHS)
        pool_break (self, g_error_new (PROC_ERROR, PROC_ERROR_BROKEN,
                                       "%u new workers in a row died before they were ready; last: %s",
                                       self->early_deaths, description));
    }

  if (w->waiter_reading)
    {
      /* A thread waiting on one of its futures polls its socket, which a
       * child of the worker may still hold open: shut it down to wake that
       * thread up, which frees the worker. Its sources go now, on the
       * thread that runs them. */
      clear_source (&w->timeout_source);
      clear_source (&w->grace_source);
      clear_source (&w->idle_source);
      clear_source (&w->source);
      shutdown (proc_channel_get_fd (w->channel), SHUT_RDWR);
      w->exited = TRUE;
    }
  else
    worker_free (w);

  pool_dispatch (self);
  pool_maybe_finish (self);
  g_mutex_unlock (&self->io_lock);
}

/* @w gets no more work and no more timers: it is on its way out. */
static void
worker_set_dying (Worker *w)
{
  w->state = WORKER_DYING;
  clear_source (&w->timeout_source);
  clear_source (&w->grace_source);
  clear_source (&w->idle_source);
}

/* Kills @w; @victim (if still in flight) then fails with @error. */
static void
worker_kill_with_signal (Worker     *w,
                         ProcFuture *victim,
                         GError     *error,
                         int         signum)
{
  if (victim != NULL && error != NULL && w->kill_victim == NULL)
    {
      w->kill_victim = g_object_ref (victim);
      w->kill_error = error;
      error = NULL;
    }
  g_clear_error (&error);

  worker_set_dying (w);
  /* Through the pidfd where there is one: the worker may have been reaped
   * already (its worker_gone() not yet run) and its pid reused. */
  if (w->pidfd >= 0)
    syscall (SYS_pidfd_send_signal, w->pidfd, signum, NULL, 0);
  else if (signum == SIGKILL)
    g_subprocess_force_exit (w->process);
  else
    g_subprocess_send_signal (w->process, signum);
}

static void
worker_kill (Worker     *w,
             ProcFuture *victim,
             GError     *error)
{
  worker_kill_with_signal (w, victim, error, SIGKILL);
}

static gboolean
on_exit_grace (gpointer data)
{
  Worker *w = data;

  if (!io_lock_for_source (w->pool))
    return G_SOURCE_REMOVE;
  g_clear_pointer (&w->grace_source, g_source_unref);
  worker_kill (w, NULL, NULL);
  g_mutex_unlock (&w->pool->io_lock);
  return G_SOURCE_REMOVE;
}

/* @w was asked to exit, owes no task and has closed its channel: it may
 * still be running atexit handlers or its language's finalization (a
 * Python worker flushing its output). It gets cancel-grace to end on its
 * own before it is killed; shutdown waits for it either way. */
static void
worker_await_exit (Worker *w)
{
  worker_set_dying (w);
  w->grace_source = add_timeout (w->pool, locked_get (w->pool, &w->pool->cancel_grace),
                                 on_exit_grace, w);
}

/* ---- workers: input ------------------------------------------------------ */

static void
worker_protocol_error (Worker     *w,
                       const char *message)
{
  ProcFuture *head = g_queue_peek_head (&w->inflight);

  w->reading = FALSE;
  worker_update_events (w);
  worker_kill (w, head,
               g_error_new (PROC_ERROR, PROC_ERROR_PROTOCOL,
                            "Worker %d sent a malformed message and was killed: %s",
                            (int) w->pid, message));
}

static void worker_start_head (Worker *w);

/* Whether the task @head_id still runs on @w once what the worker has
 * already written is read: a task that ends as its timer fires must not
 * have its worker killed under the next one. */
static gboolean
worker_still_running (Worker  *w,
                      guint64  head_id)
{
  ProcFuture *head;

  /* Read even when a thread waiting on the head polls the socket (the
   * channel is only touched under io_lock), then wake that thread: it
   * may have nothing left to read. */
  if (w->reading)
    {
      worker_process_input (w, MAX_READS_PER_WAKE);
      if (w->waiter_reading)
        eventfd_write (w->waiter_wake_fd, 1);
    }
  head = g_queue_peek_head (&w->inflight);
  return head != NULL && head->id == head_id && w->state != WORKER_DYING;
}

static gboolean
on_task_timeout (gpointer data)
{
  Worker *w = data;
  ProcFuture *head;

  if (!io_lock_for_source (w->pool))
    return G_SOURCE_REMOVE;
  head = g_queue_peek_head (&w->inflight);
  g_clear_pointer (&w->timeout_source, g_source_unref);
  if (head != NULL && worker_still_running (w, head->id))
    worker_kill (w, head,
                 g_error_new (PROC_ERROR, PROC_ERROR_TASK_TIMEOUT,
                              "Task “%s” timed out after %.3f s; worker %d was killed",
                              head->task_name, head->timeout_usec / (double) G_USEC_PER_SEC,
                              (int) w->pid));
  g_mutex_unlock (&w->pool->io_lock);
  return G_SOURCE_REMOVE;
}

static gboolean
on_cancel_grace (gpointer data)
{
  Worker *w = data;
  ProcFuture *head;

  if (!io_lock_for_source (w->pool))
    return G_SOURCE_REMOVE;
  head = g_queue_peek_head (&w->inflight);
  g_clear_pointer (&w->grace_source, g_source_unref);
  if (head != NULL && worker_still_running (w, head->id))
    worker_kill (w, head,
                 g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                              "Task “%s” was interrupted; worker %d did not stop it in time and was killed",
                              head->task_name, (int) w->pid));
  g_mutex_unlock (&w->pool->io_lock);
  return G_SOURCE_REMOVE;
}

static GSource *
add_timeout (ProcPool    *self,
             gint64       usec,
             GSourceFunc  func,
             gpointer     data)
{
  GSource *source = g_timeout_source_new (MAX (usec, 0) / 1000 + (usec % 1000 ? 1 : 0));

  g_source_set_callback (source, func, data, NULL);
  g_source_attach (source, self->context);
  return source;
}

/* The head of @w's in-flight queue starts now: arm its timers. */
static void
worker_start_head (Worker *w)
{
  ProcFuture *head = g_queue_peek_head (&w->inflight);
  gboolean interrupted;

  clear_source (&w->timeout_source);
  clear_source (&w->grace_source);
  w->head_started = g_get_monotonic_time ();

  if (head == NULL || w->state == WORKER_DYING)
    return;

  if (head->timeout_usec > 0)
    w->timeout_source = add_timeout (w->pool, head->timeout_usec, on_task_timeout, w);

  _proc_futures_lock ();
  interrupted = head->interrupted;
  _proc_futures_unlock ();
  if (interrupted)
    w->grace_source = add_timeout (w->pool, locked_get (w->pool, &w->pool->cancel_grace),
                                   on_cancel_grace, w);
}

static gboolean
on_idle_timeout (gpointer data)
{
  Worker *w = data;

  if (!io_lock_for_source (w->pool))
    return G_SOURCE_REMOVE;
  g_clear_pointer (&w->idle_source, g_source_unref);
  if (w->state == WORKER_READY && g_queue_is_empty (&w->inflight))
    {
      w->state = WORKER_RETIRING;
      if (proc_channel_queue (w->channel, PROC_MSG_EXIT, g_variant_new ("()"), NULL, NULL))
        worker_flush (w);
    }
  g_mutex_unlock (&w->pool->io_lock);
  return G_SOURCE_REMOVE;
}

static void
worker_became_idle (Worker *w)
{
  gint64 idle_timeout = locked_get (w->pool, &w->pool->idle_timeout);

  clear_source (&w->idle_source);
  if (idle_timeout > 0 && w->state == WORKER_READY)
    w->idle_source = add_timeout (w->pool, idle_timeout, on_idle_timeout, w);
}

/* Resident memory of a worker, in bytes; 0 if it cannot be read. */
static guint64
worker_rss (Worker *w)
{
  char path[64], buf[128];
  guint64 size = 0, resident = 0;
  gssize n;
  int fd;

  g_snprintf (path, sizeof path, "/proc/%d/statm", (int) w->pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  if (sscanf (buf, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, &size, &resident) != 2)
    return 0;
  return resident * (guint64) sysconf (_SC_PAGESIZE);
}

/* After a task: a worker that grew past max-rss is replaced once it is
 * done with what it was sent. */
static void
worker_check_rss (Worker *w)
{
  if (w->pool->max_rss == 0 || w->state != WORKER_READY)
    return;
  if (worker_rss (w) <= w->pool->max_rss)
    return;

  w->state = WORKER_RETIRING;
  clear_source (&w->idle_source);
  if (proc_channel_queue (w->channel, PROC_MSG_EXIT, g_variant_new ("()"), NULL, NULL))
    worker_flush (w);
}

/* Completes the head of @w's queue, which the message names by @id. */
static ProcFuture *
worker_pop_head (Worker     *w,
                 guint64     id,
                 const char *what)
{
  ProcFuture *head = g_queue_peek_head (&w->inflight);
  ProcPool *self = w->pool;
  double elapsed;

  if (head == NULL || head->id != id)
    {
      g_autofree char *msg = g_strdup_printf ("%s for task %" G_GUINT64_FORMAT
                                              " which is not the one running", what, id);
      worker_protocol_error (w, msg);
      return NULL;
    }

  g_queue_pop_head (&w->inflight);
  elapsed = (double) (g_get_monotonic_time () - w->head_started);
  self->avg_task_usec = self->avg_task_usec == G_MAXDOUBLE
                        ? elapsed : 0.9 * self->avg_task_usec + 0.1 * elapsed;

  worker_start_head (w);
  worker_check_rss (w);
  if (g_queue_is_empty (&w->inflight))
    worker_became_idle (w);

  return head;
}

static void
worker_handle_frame (Worker    *w,
                     ProcFrame *frame)
{
  ProcPool *self = w->pool;
  ProcFuture *future;
  guint64 id;

  switch ((ProcMessageKind) frame->kind)
    {
    case PROC_MSG_READY:
      {
        guint32 version;

        g_variant_get (frame->payload, "(u)", &version);
        if (w->ready || w->init_failed || version != PROC_PROTOCOL_VERSION)
          {
            worker_protocol_error (w, "unexpected READY");
            return;
          }
        /* It may have been told to retire (or killed) while starting. */
        if (w->state == WORKER_STARTING)
          w->state = WORKER_READY;
        w->ready = TRUE;
        self->early_deaths = 0;
        /* pool_dispatch() gives it work, after this read. */
        worker_became_idle (w);
      }
      break;

    case PROC_MSG_INIT_FAILED:
      {
        const char *domain, *message;
        gint code;

        if (w->ready || w->init_failed)
          {
            worker_protocol_error (w, "unexpected INIT_FAILED");
            return;
          }
        g_variant_get (frame->payload, "(&si&s)", &domain, &code, &message);
        w->init_failed = TRUE;
        /* It had no task yet: what is queued fails. */
        pool_break (self, g_error_new (PROC_ERROR, PROC_ERROR_BROKEN,
                                       "the initializer failed in worker %d: %s",
                                       (int) w->pid, message));
      }
      break;

    case PROC_MSG_RESULT:
      {
        GVariant *result;

        id = frame->id;
        if ((future = worker_pop_head (w, id, "RESULT")) == NULL)
          return;
        if (future->is_chunk)
          {
            fail_future (future, g_error_new (PROC_ERROR, PROC_ERROR_PROTOCOL,
                                              "Worker %d answered a chunk with a single result",
                                              (int) w->pid));
            g_object_unref (future);
            worker_protocol_error (w, "RESULT for a chunk");
            return;
          }
        result = g_variant_ref (frame->payload);
        _proc_future_complete_with_fds (future, result, g_steal_pointer (&frame->fds));
        g_object_unref (future);
      }
      break;

    case PROC_MSG_ERROR:
      {
        const char *domain, *message;
        gint code;

        g_variant_get (frame->payload, "(t&si&s)", &id, &domain, &code, &message);
        if ((future = worker_pop_head (w, id, "ERROR")) == NULL)
          return;
        fail_future (future, proc_error_from_wire (domain, code, message));
        g_object_unref (future);
      }
      break;

    case PROC_MSG_CHUNK_RESULT:
      g_variant_get_child (frame->payload, 0, "t", &id);
      if ((future = worker_pop_head (w, id, "CHUNK_RESULT")) == NULL)
        return;
      if (!future->is_chunk)
        {
          fail_future (future, g_error_new (PROC_ERROR, PROC_ERROR_PROTOCOL,
                                            "Worker %d answered a task with chunk results",
                                            (int) w->pid));
          g_object_unref (future);
          worker_protocol_error (w, "CHUNK_RESULT for a single task");
          return;
        }
      {
        g_autoptr(GVariant) boxed = g_variant_get_child_value (frame->payload, 1);
        g_autoptr(GVariant) results = g_variant_get_variant (boxed);

        if (!g_variant_is_of_type (results, G_VARIANT_TYPE_ARRAY))
          {
            fail_future (future, g_error_new (PROC_ERROR, PROC_ERROR_PROTOCOL,
                                              "Worker %d answered a chunk with “%s”, not an array",
                                              (int) w->pid, g_variant_get_type_string (results)));
            g_object_unref (future);
            worker_protocol_error (w, "CHUNK_RESULT without an array");
            return;
          }
      }
      _proc_future_complete (future, g_variant_ref (frame->payload), NULL);
      g_object_unref (future);
      break;

    case PROC_MSG_RECLAIMED:
      {
        GList *link = NULL;

        g_variant_get (frame->payload, "(t)", &id);
        for (GList *l = w->inflight.head; l != NULL; l = l->next)
          if (((ProcFuture *) l->data)->id == id)
            link = l;
        if (link == NULL)
          {
            worker_protocol_error (w, "RECLAIMED for a task it does not have");
            return;
          }
        future = link->data;
        g_queue_delete_link (&w->inflight, link);
        requeue_future (self, future);
        if (w->inflight.length == 0)
          worker_became_idle (w);
      }
      break;

    case PROC_MSG_PROGRESS:
      {
        double fraction;
        GVariant *detail = NULL;
        ProcFuture *head = g_queue_peek_head (&w->inflight);

        g_variant_get (frame->payload, "(tdmv)", &id, &fraction, &detail);
        if (head == NULL || head->id != id || !isfinite (fraction))
          {
            g_clear_pointer (&detail, g_variant_unref);
            worker_protocol_error (w, isfinite (fraction) ? "PROGRESS for a task that is not running"
                                                          : "PROGRESS with a fraction that is not a number");
            return;
          }
        _proc_future_report_progress (head, CLAMP (fraction, 0.0, 1.0), detail);
        g_clear_pointer (&detail, g_variant_unref);
      }
      break;

    default:
      worker_protocol_error (w, "unexpected message kind");
      return;
    }

  /* Every reply frees a slot: more work may go out. */
}

static void
worker_process_input (Worker *w,
                      guint   max_reads)
{
  for (guint reads = 0; w->reading && reads < max_reads; reads++)
    {
      g_autoptr(GError) error = NULL;
      gssize n = proc_channel_fill (w->channel, &error);
      ProcFrame frame;

      if (n < 0)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            break;
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA))
            {
              worker_protocol_error (w, error->message);
              break;
            }
          /* ECONNRESET and the like: the same as EOF. */
          g_clear_error (&error);
          n = 0;
        }

      while (w->reading && proc_channel_next (w->channel, &frame, &error))
        {
          worker_handle_frame (w, &frame);
          proc_frame_clear (&frame);
        }
      if (error != NULL)
        {
          worker_protocol_error (w, error->message);
          break;
        }

      if (n == 0)
        {
          /* EOF: a worker without a channel is of no use. */
          w->reading = FALSE;
          if (proc_channel_has_partial_input (w->channel) && g_queue_peek_head (&w->inflight))
            worker_kill (w, g_queue_peek_head (&w->inflight),
                         g_error_new (PROC_ERROR, PROC_ERROR_PROTOCOL,
                                      "Worker %d closed its channel in the middle of a message",
                                      (int) w->pid));
          else if (w->state == WORKER_RETIRING && g_queue_is_empty (&w->inflight))
            worker_await_exit (w);
          else
            worker_kill (w, NULL, NULL);
          worker_update_events (w);
          break;
        }
    }
}

static gboolean
worker_source_dispatch (GSource     *source,
                        GSourceFunc  callback,
                        gpointer     user_data)
{
  WorkerSource *ws = (WorkerSource *) source;
  ProcPool *self = ws->pool;
  Worker *w;
  struct epoll_event event;

  /* The worker may have been freed by the thread that destroyed this. */
  if (!io_lock_for_source (self))
    return G_SOURCE_REMOVE;
  w = ws->worker;
  if (epoll_wait (w->epoll_fd, &event, 1, 0) == 1)
    {
      if (event.events & EPOLLOUT)
        worker_flush (w);
      if ((event.events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !w->waiter_reading)
        worker_process_input (w, MAX_READS_PER_WAKE);
    }

  pool_dispatch (self);
  pool_maybe_finish (self);
  g_mutex_unlock (&self->io_lock);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs worker_source_funcs = {
  NULL, NULL, worker_source_dispatch, NULL, NULL, NULL,
};

/* ---- workers: birth ------------------------------------------------------ */

/* A new worker's result log (see proc-protocol-private.h), sealed so
 * that the worker cannot shrink it under the parent's reads; -1 when it
 * cannot be made, and the worker then holds nothing back. */
static int
result_log_new (void)
{
  int fd = memfd_create ("procexec-result-log", MFD_CLOEXEC | MFD_ALLOW_SEALING);

  if (fd < 0)
    return -1;
  if (ftruncate (fd, PROC_RESULT_LOG_SIZE) < 0 ||
      fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

/* Between fork() and exec(): only async-signal-safe calls. */
static void
limit_address_space (gpointer data)
{
  const guint64 *limit = data;
  struct rlimit rl = { (rlim_t) *limit, (rlim_t) *limit };

  setrlimit (RLIMIT_AS, &rl);
}

static Worker *
worker_spawn (ProcPool  *self,
              GError   **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  GSubprocess *process;
  Worker *w;
  int sv[2];
  const char *id;
  gint64 pid;
  g_autoptr(GVariant) hello = NULL;
  g_autoptr(GUnixFDList) log_fds = NULL;
  WorkerSource *ws;
  int epoll_fd;

  epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
  if (epoll_fd < 0 || socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "%s: %s", epoll_fd < 0 ? "epoll_create1" : "socketpair", g_strerror (saved));
      if (epoll_fd >= 0)
        close (epoll_fd);
      return NULL;
    }

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  if (self->memory_limit > 0)
    g_subprocess_launcher_set_child_setup (launcher, limit_address_space,
                                           &self->memory_limit, NULL);
  g_subprocess_launcher_take_fd (launcher, sv[1], PROC_CHANNEL_FD);
  g_subprocess_launcher_setenv (launcher, PROC_CHANNEL_FD_ENV, G_STRINGIFY (PROC_CHANNEL_FD), TRUE);
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) self->worker_argv, error);
  /* Drop our copy of the worker's end now, or its death would not show
   * as EOF on ours. */
  g_subprocess_launcher_close (launcher);
  if (process == NULL)
    {
      close (sv[0]);
      close (epoll_fd);
      return NULL;
    }

  id = g_subprocess_get_identifier (process);
  if (id == NULL || !g_ascii_string_to_signed (id, 10, 1, G_MAXINT, &pid, NULL))
    pid = 0;

  g_unix_set_fd_nonblocking (sv[0], TRUE, NULL);

  w = g_new0 (Worker, 1);
  w->pool = self;
  w->process = process;
  w->pid = (GPid) pid;
  /* Nobody reaps the child before its watch, set below, sees it exit:
   * the pid still names it. */
  w->pidfd = pid > 0 ? (int) syscall (SYS_pidfd_open, (pid_t) pid, 0) : -1;
  w->channel = proc_channel_new (sv[0], PROC_CHANNEL_FLAGS_PEER_IS_WORKER);
  w->result_log_fd = result_log_new ();
  w->epoll_fd = epoll_fd;
  /* Without it, threads that wait leave reading to the I/O thread. */
  w->waiter_wake_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  w->state = WORKER_STARTING;
  w->reading = TRUE;
  g_queue_init (&w->inflight);
  worker_update_events (w);

  w->source = g_source_new (&worker_source_funcs, sizeof (WorkerSource));
  ws = (WorkerSource *) w->source;
  ws->pool = self;
  ws->worker = w;
  g_source_add_unix_fd (w->source, epoll_fd, G_IO_IN);
  /* Dispatching never iterates the context again. Without this, GLib
   * blocks the source around each dispatch: it takes the fd out of the
   * context's poll set and puts it back, and each of the two signals the
   * context's wake-up eventfd, which costs two write()s and makes the next
   * poll() return at once to read it. */
  g_source_set_can_recurse (w->source, TRUE);
  g_source_set_static_name (w->source, "[procexec] worker channel");
  g_source_attach (w->source, self->context);

  /* Module paths are filenames: bytestrings, not necessarily UTF-8. */
  hello = g_variant_ref_sink (g_variant_new ("(u^aaymsv)", (guint32) PROC_PROTOCOL_VERSION,
                                             self->modules ? self->modules : (char *[]) { NULL },
                                             self->initializer, self->initargs));
  if (w->result_log_fd >= 0)
    {
      log_fds = g_unix_fd_list_new ();
      if (g_unix_fd_list_append (log_fds, w->result_log_fd, NULL) < 0)
        g_clear_object (&log_fds);
    }
  proc_channel_queue (w->channel, PROC_MSG_HELLO, hello, log_fds, NULL);

  g_subprocess_wait_async (process, NULL, worker_exited, w);
  worker_flush (w);

  self->workers = g_list_append (self->workers, w);
  g_atomic_int_inc (&self->n_workers);
  counters_changed (self);

  return w;
}

/* ---- scheduling ---------------------------------------------------------- */

static guint
count_live_workers (ProcPool *self)
{
  guint n = 0;

  for (GList *l = self->workers; l != NULL; l = l->next)
    if (((Worker *) l->data)->state != WORKER_DYING)
      n++;
  return n;
}

static gboolean
worker_accepts (Worker *w,
                guint   window)
{
  if (w->state != WORKER_READY)
    return FALSE;
  if (w->inflight.length >= window)
    return FALSE;
  if (w->pool->max_tasks_per_child > 0 && w->n_sent >= w->pool->max_tasks_per_child)
    return FALSE;
  return TRUE;
}

static Worker *
pick_worker (ProcPool *self,
             guint     max_workers)
{
  Worker *best = NULL;
  guint window;

  /* An idle worker first, ... */
  for (GList *l = self->workers; l != NULL; l = l->next)
    if (worker_accepts (l->data, 1))
      return l->data;

  /* ... else none while another worker may start (pool_dispatch() starts
   * it), ... */
  if (count_live_workers (self) < max_workers)
    return NULL;

  /* ... then, for short tasks, the least loaded busy one. */
  if (self->avg_task_usec >= SHORT_TASK_USEC)
    return NULL;
  window = (guint) CLAMP (WINDOW_USEC / MAX (self->avg_task_usec, 1.0), 2.0, (double) MAX_WINDOW);
  for (GList *l = self->workers; l != NULL; l = l->next)
    {
      Worker *w = l->data;

      /* Not behind a task it may be killed for. */
      if (worker_accepts (w, window) && w->grace_source == NULL &&
          (best == NULL || w->inflight.length < best->inflight.length))
        best = w;
    }
  return best;
}

static gboolean
worker_send (Worker     *w,
             ProcFuture *future)
{
  g_autoptr(GError) error = NULL;
  guint8 kind = future->is_chunk ? PROC_MSG_RUN_CHUNK : PROC_MSG_RUN;

  if (!proc_channel_queue_call (w->channel, kind, future->id, future->task_name,
                                future->args, future->fd_list, &error))
    {
      fail_future (future, g_error_new (PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT,
                                        "Could not send task “%s”: %s",
                                        future->task_name, error->message));
      return FALSE;
    }

  w->n_sent++;
  if (w->pool->max_tasks_per_child > 0 && w->n_sent >= w->pool->max_tasks_per_child)
    {
      /* Its last task: it exits after answering. */
      proc_channel_queue (w->channel, PROC_MSG_EXIT, g_variant_new ("()"), NULL, NULL);
      w->state = WORKER_RETIRING;
    }
  return TRUE;
}

/* Asks @w to give back the tasks queued behind its running one (it
 * answers RECLAIMED for those it has not started); returns whether it
 * queued any request. */
static gboolean
worker_reclaim_queued (Worker *w)
{
  gboolean any = FALSE;

  if (w->inflight.head == NULL)
    return FALSE;
  for (GList *fl = w->inflight.head->next; fl != NULL; fl = fl->next)
    {
      ProcFuture *future = fl->data;

      if (future->reclaiming)
        continue;
      future->reclaiming = TRUE;
      proc_channel_queue (w->channel, PROC_MSG_RECLAIM,
                          g_variant_new ("(t)", future->id), NULL, NULL);
      any = TRUE;
    }
  return any;
}

/* Hands @future (a reference, in no queue) to @w. FALSE when it went
 * nowhere: it was cancelled meanwhile, or could not be sent (and failed). */
static gboolean
worker_assign (Worker     *w,
               ProcFuture *future)
{
  if (!_proc_future_mark_running (future, w->pid) || !worker_send (w, future))
    {
      g_object_unref (future);
      return FALSE;
    }

  clear_source (&w->idle_source);
  g_queue_push_tail (&w->inflight, future);
  if (w->inflight.length == 1)
    worker_start_head (w);
  return TRUE;
}

/* With @io_lock, on the submitting thread: sends @future to an idle worker
 * at once when nothing is queued before it, sparing a hand-over to the I/O
 * thread. FALSE when it must be queued instead. */
static gboolean
pool_submit_to_idle_worker (ProcPool   *self,
                            ProcFuture *future)
{
  if (!g_queue_is_empty (&self->queue) || self->shutdown_seen ||
      count_live_workers (self) > (guint) g_atomic_int_get (&self->max_workers))
    return FALSE;

  for (GList *l = self->workers; l != NULL; l = l->next)
    {
      Worker *w = l->data;

      if (worker_accepts (w, 1))
        {
          if (worker_assign (w, g_object_ref (future)))
            worker_flush (w);
          return TRUE;
        }
    }
  return FALSE;
}

static void
pool_dispatch (ProcPool *self)
{
  guint max_workers = g_atomic_int_get (&self->max_workers);
  GList *touched = NULL;
  gboolean broken;

  g_mutex_lock (&self->lock);
  broken = self->broken != NULL;
  g_mutex_unlock (&self->lock);

  if (broken && !g_queue_is_empty (&self->queue))
    {
      GError *error;

      g_mutex_lock (&self->lock);
      error = g_error_copy (self->broken);
      g_mutex_unlock (&self->lock);
      pool_break (self, error);
    }

  while (!g_queue_is_empty (&self->queue) && !broken)
    {
      ProcFuture *future = g_queue_peek_head (&self->queue);
      Worker *w;

      if (proc_future_is_done (future))
        {
          g_queue_unlink (&self->queue, &future->link);
          g_object_unref (future);
          continue;
        }

      w = pick_worker (self, max_workers);
      if (w == NULL)
        break;

      g_queue_unlink (&self->queue, &future->link);
      if (worker_assign (w, future) && g_list_find (touched, w) == NULL)
        touched = g_list_prepend (touched, w);
    }

  /* What no ready worker took waits in the queue, and a worker starts for
   * each task that no starting worker will take, up to max-workers. A
   * task is not bound to a worker before it is ready: whichever is ready
   * first runs the oldest task, as in CPython, and a task never waits
   * for a slow start while another worker is free. */
  if (!g_queue_is_empty (&self->queue) && !broken)
    {
      guint live = 0, starting = 0;

      for (GList *l = self->workers; l != NULL; l = l->next)
        {
          Worker *w = l->data;

          live += w->state != WORKER_DYING;
          starting += w->state == WORKER_STARTING;
        }

      while (self->queue.length > starting && live < max_workers)
        {
          g_autoptr(GError) error = NULL;

          if (!g_main_context_is_owner (self->context))
            {
              /* Another thread is driving the pool: spawning is for the
               * I/O thread, whose context gets the child's exit. */
              pool_wake_io_thread (self);
              break;
            }
          if (worker_spawn (self, &error) == NULL)
            {
              pool_break (self, g_error_new (PROC_ERROR, PROC_ERROR_SPAWN,
                                             "could not start a worker (%s): %s",
                                             self->worker_argv[0], error->message));
              broken = TRUE;
              break;
            }
          starting++;
          live++;
        }
    }

  /* Tasks sent ahead to a busy worker are taken back when another worker
   * is idle with nothing queued: one long task must not hold up the short
   * ones sent after it. */
  if (g_queue_is_empty (&self->queue) && !broken)
    {
      gboolean any_idle = FALSE;

      for (GList *l = self->workers; l != NULL && !any_idle; l = l->next)
        any_idle = worker_accepts (l->data, 1);

      for (GList *l = self->workers; l != NULL && any_idle; l = l->next)
        {
          Worker *w = l->data;

          if (w->state == WORKER_DYING || w->inflight.length < 2)
            continue;
          if (worker_reclaim_queued (w) && g_list_find (touched, w) == NULL)
            touched = g_list_prepend (touched, w);
        }
    }

  /* Retire idle workers above the limit (max-workers was lowered) and,
   * once shut down with nothing left to do, every idle worker. */
  {
    guint live = count_live_workers (self);
    gboolean nothing_left = g_queue_is_empty (&self->queue);

    for (GList *l = self->workers; l != NULL; l = l->next)
      {
        Worker *w = l->data;

        if (w->state != WORKER_READY || !g_queue_is_empty (&w->inflight))
          continue;
        if (live > max_workers || (self->shutdown_seen && nothing_left) || broken)
          {
            w->state = WORKER_RETIRING;
            clear_source (&w->idle_source);
            proc_channel_queue (w->channel, PROC_MSG_EXIT, g_variant_new ("()"), NULL, NULL);
            live--;
            if (g_list_find (touched, w) == NULL)
              touched = g_list_prepend (touched, w);
          }
      }
    /* A starting worker with nothing to do also goes once shut down. */
    if ((self->shutdown_seen && nothing_left) || broken)
      for (GList *l = self->workers; l != NULL; l = l->next)
        {
          Worker *w = l->data;

          if (w->state == WORKER_STARTING && g_queue_is_empty (&w->inflight))
            {
              w->state = WORKER_RETIRING;
              proc_channel_queue (w->channel, PROC_MSG_EXIT, g_variant_new ("()"), NULL, NULL);
              if (g_list_find (touched, w) == NULL)
                touched = g_list_prepend (touched, w);
            }
        }
  }

  for (GList *l = touched; l != NULL; l = l->next)
    worker_flush (l->data);
  g_list_free (touched);
}

static void
pool_maybe_finish (ProcPool *self)
{
  gboolean incoming_empty;

  if (!self->shutdown_seen || self->workers != NULL || !g_queue_is_empty (&self->queue))
    return;

  g_mutex_lock (&self->lock);
  incoming_empty = g_queue_is_empty (&self->incoming) && g_queue_is_empty (&self->interrupts);
  if (incoming_empty)
    self->io_done = TRUE;
  g_mutex_unlock (&self->lock);
}

/* ---- threads that wait read for themselves ------------------------------ */

static Worker *
worker_running (ProcPool   *self,
                ProcFuture *future)
{
  for (GList *l = self->workers; l != NULL; l = l->next)
    if (g_queue_find (&((Worker *) l->data)->inflight, future) != NULL)
      return l->data;
  return NULL;
}

/* Called by a thread about to sleep until @future, which runs, is done or
 * @end_time (monotonic, -1: never) has come. Instead of waiting for the
 * I/O thread to read the reply and then wake it, this thread reads the
 * worker's socket itself: the reply then wakes one thread, not two. That
 * is for a worker with nothing but @future to do; the replies of a stream
 * of tasks (sent ahead, or queued) are better read by the I/O thread, many
 * per system call. It leaves the rest to the I/O thread as soon as anything is
 * unusual: the worker is being read by another waiter, is not ready or is
 * dying, or the future left it. */
void
_proc_pool_read_until_done (ProcPool   *self,
                            ProcFuture *future,
                            gint64      end_time)
{
  g_mutex_lock (&self->io_lock);
  while (!proc_future_is_done (future))
    {
      Worker *w = worker_running (self, future);
      struct pollfd pfd[2] = { { 0 } };
      struct timespec ts, *timeout = NULL;
      int n;

      if (w == NULL || w->inflight.length != 1 || !g_queue_is_empty (&self->queue) ||
          w->waiter_reading || !w->reading ||
          (w->state != WORKER_READY && w->state != WORKER_RETIRING))
        break;
      if (w->waiter_wake_fd < 0)
        break;
      if (end_time >= 0)
        {
          gint64 left = end_time - g_get_monotonic_time ();

          if (left <= 0)
            break;
          ts.tv_sec = left / G_USEC_PER_SEC;
          ts.tv_nsec = (left % G_USEC_PER_SEC) * 1000;
          timeout = &ts;
        }

      /* The I/O thread stops watching for input without being woken. */
      w->waiter_reading = TRUE;
      worker_update_events (w);
      pfd[0].fd = proc_channel_get_fd (w->channel);
      pfd[0].events = POLLIN;
      /* The I/O thread may read the socket too, when a timer of the task
       * fires: it then wakes this thread through that. */
      pfd[1].fd = w->waiter_wake_fd;
      pfd[1].events = POLLIN;
      g_mutex_unlock (&self->io_lock);
      n = ppoll (pfd, 2, timeout, NULL);
      g_mutex_lock (&self->io_lock);
      w->waiter_reading = FALSE;

      if (w->exited)
        {
          worker_free (w);
          break;
        }
      if (n > 0 && pfd[1].revents != 0)
        {
          eventfd_t count;

          eventfd_read (w->waiter_wake_fd, &count);
        }
      if (n > 0 && pfd[0].revents != 0)
        {
          /* One read: a reply is one frame, and more input makes the
           * next poll return at once. */
          worker_process_input (w, 1);
          /* As the I/O thread after a read: replies free slots. */
          pool_dispatch (self);
        }
      worker_update_events (w);
    }
  g_mutex_unlock (&self->io_lock);
}
