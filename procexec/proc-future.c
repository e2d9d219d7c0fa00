/* proc-future.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "proc-enum-types.h"
#include "proc-future-private.h"
#include "proc-pool-private.h"

/**
 * ProcFuture:
 *
 * The pending result of a task submitted to a [class@Executor], as
 * Python's `concurrent.futures.Future`.
 *
 * A future is PENDING while queued, RUNNING once handed to a worker, and
 * ends FINISHED (with a `GVariant` result or a `GError`) or CANCELLED
 * (cancelled before it ran). Every future reaches one of those two states,
 * whatever happens to its worker or its executor.
 *
 * Results can be awaited in every style:
 *
 * - blocking, from any thread, with a timeout: [method@Future.result],
 *   [method@Future.exception], [method@Future.wait];
 * - without blocking: [method@Future.peek_result];
 * - the GIO way: [method@Future.wait_async];
 * - with callbacks: [method@Future.add_done_callback].
 *
 * ## Threading
 *
 * All methods are safe to call from any thread. Notifications are never
 * emitted from the executor's I/O thread:
 *
 * - done callbacks run in the thread-default main context of the thread
 *   that added them, in the order they were added, once each, in a later
 *   iteration of that context — also when the future was already done;
 * - [signal@Future::progress] and `notify::state` are emitted in the
 *   thread-default main context of the thread that submitted the task;
 * - [method@Future.wait_async] calls back in the thread-default main
 *   context of the call, as all GIO async methods do.
 *
 * Those contexts must be iterated (by a `GMainLoop`, GTK, …) for the
 * notifications to arrive. They are only scheduled when somebody listens:
 * a program that only uses the blocking calls needs no main loop at all.
 */

typedef struct {
  ProcFutureDoneFunc  func;
  gpointer            data;
  GDestroyNotify      destroy;
  GMainContext       *context;
} DoneCallback;

/* What tripping a submit cancellable needs: a pointer to the future that
 * the future itself clears when it is finalized. */
struct _ProcCancelGuard {
  gatomicrefcount  ref;
  GMutex           lock;
  ProcFuture      *future;   /* unowned */
};

enum {
  PROP_0,
  PROP_STATE,
  PROP_TASK_NAME,
  PROP_WORKER_PID,
  N_PROPS
};

enum {
  SIGNAL_PROGRESS,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];
static GMutex futures_lock;
static guint notify_signal_id;
static GQuark state_quark;

G_DEFINE_FINAL_TYPE (ProcFuture, proc_future, G_TYPE_OBJECT)

void
_proc_futures_lock (void)
{
  g_mutex_lock (&futures_lock);
}

void
_proc_futures_unlock (void)
{
  g_mutex_unlock (&futures_lock);
}

/* Sleeps on @waiter until signalled or @end_time (monotonic, -1: never). */
void
_proc_futures_wait (ProcWaiter *waiter,
                    gint64      end_time)
{
  if (end_time < 0)
    g_cond_wait (&waiter->cond, &futures_lock);
  else
    g_cond_wait_until (&waiter->cond, &futures_lock, end_time);
}

static void
cancel_guard_unref (gpointer data)
{
  ProcCancelGuard *guard = data;

  if (g_atomic_ref_count_dec (&guard->ref))
    {
      g_mutex_clear (&guard->lock);
      g_free (guard);
    }
}

static void
cancel_guard_cancelled (GCancellable *cancellable,
                        gpointer      data)
{
  ProcCancelGuard *guard = data;
  ProcFuture *future = NULL;

  g_mutex_lock (&guard->lock);
  if (guard->future != NULL)
    future = g_object_ref (guard->future);
  g_mutex_unlock (&guard->lock);

  if (future != NULL)
    {
      proc_future_interrupt (future);
      g_object_unref (future);
    }
}

static void
proc_future_finalize (GObject *object)
{
  ProcFuture *self = PROC_FUTURE (object);

  if (self->cancel_guard != NULL)
    {
      g_mutex_lock (&self->cancel_guard->lock);
      self->cancel_guard->future = NULL;
      g_mutex_unlock (&self->cancel_guard->lock);
      /* Not g_cancellable_disconnect(): it would deadlock when the last
       * reference is dropped by the handler itself. The guard keeps a
       * concurrent handler safe. */
      g_signal_handler_disconnect (self->cancellable, self->cancel_handler);
      cancel_guard_unref (self->cancel_guard);
    }
  g_clear_object (&self->cancellable);

  g_assert (self->waiters == NULL);
  g_assert (self->callbacks == NULL);

  g_clear_pointer (&self->args, g_variant_unref);
  g_clear_object (&self->fd_list);
  g_clear_pointer (&self->result, g_variant_unref);
  g_clear_object (&self->result_fd_list);
  g_clear_error (&self->error);
  g_clear_pointer (&self->task_name, g_free);
  g_clear_pointer (&self->owner_context, g_main_context_unref);
  g_clear_pointer (&self->pool, _proc_pool_unref);

  G_OBJECT_CLASS (proc_future_parent_class)->finalize (object);
}

static void
proc_future_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  ProcFuture *self = PROC_FUTURE (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, proc_future_get_state (self));
      break;
    case PROP_TASK_NAME:
      g_value_set_string (value, proc_future_get_task_name (self));
      break;
    case PROP_WORKER_PID:
      g_value_set_int (value, proc_future_get_worker_pid (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
proc_future_class_init (ProcFutureClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = proc_future_finalize;
  object_class->get_property = proc_future_get_property;

  /**
   * ProcFuture:state: (getter get_state)
   *
   * The state of the future. `notify::state` is emitted in the
   * thread-default main context of the thread that submitted the task.
   */
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       PROC_TYPE_FUTURE_STATE, PROC_FUTURE_STATE_PENDING,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * ProcFuture:task-name: (getter get_task_name)
   *
   * The name of the task this future is the result of.
   */
  properties[PROP_TASK_NAME] =
    g_param_spec_string ("task-name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * ProcFuture:worker-pid: (getter get_worker_pid)
   *
   * The process id of the worker the task was handed to, or 0 while it
   * is pending or if it never ran.
   */
  properties[PROP_WORKER_PID] =
    g_param_spec_int ("worker-pid", NULL, NULL, 0, G_MAXINT, 0,
                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * ProcFuture::progress:
   * @self: the future
   * @fraction: the fraction done, from 0.0 to 1.0
   * @detail: (nullable): the detail the task sent with it
   *
   * Emitted for each progress report of the task, in order, in the
   * thread-default main context of the thread that submitted the task.
   * Reports are queued in that context as they arrive, so a handler
   * connected before the context next iterates receives every one; a
   * program whose tasks report progress must iterate that context.
   */
  signals[SIGNAL_PROGRESS] =
    g_signal_new ("progress",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_DOUBLE, G_TYPE_VARIANT);

  notify_signal_id = g_signal_lookup ("notify", G_TYPE_OBJECT);
  state_quark = g_quark_from_static_string ("state");
}

static void
proc_future_init (ProcFuture *self)
{
  self->state = PROC_FUTURE_STATE_PENDING;
}

ProcFuture *
_proc_future_new (ProcPool     *pool,
                  const char   *task,
                  GVariant     *args,
                  GUnixFDList  *fd_list,
                  gint64        timeout_usec,
                  GCancellable *cancellable,
                  gboolean      is_chunk)
{
  static guint64 last_id;
  ProcFuture *self = g_object_new (PROC_TYPE_FUTURE, NULL);

  self->pool = _proc_pool_ref (pool);
  /* Not an interned GRefString: GLib 2.74 lets a concurrent lookup revive
   * one whose last reference is being dropped. */
  self->task_name = g_strdup (task);
  self->owner_context = g_main_context_ref_thread_default ();
  self->timeout_usec = timeout_usec;
  self->args = g_variant_ref_sink (args);
  self->fd_list = fd_list ? g_object_ref (fd_list) : NULL;
  self->is_chunk = !!is_chunk;
  self->id = g_atomic_pointer_add (&last_id, 1) + 1;
  self->link.data = self;

  if (cancellable != NULL)
    {
      ProcCancelGuard *guard = g_new0 (ProcCancelGuard, 1);

      g_atomic_ref_count_init (&guard->ref);
      g_mutex_init (&guard->lock);
      guard->future = self;
      self->cancel_guard = guard;
      self->cancellable = g_object_ref (cancellable);
      g_atomic_ref_count_inc (&guard->ref);
      self->cancel_handler = g_cancellable_connect (cancellable,
                                                    G_CALLBACK (cancel_guard_cancelled),
                                                    guard, cancel_guard_unref);
      if (self->cancel_handler == 0)
        {
          /* Already cancelled: the handler ran and the guard's extra
           * reference was dropped; nothing is connected. */
          g_clear_object (&self->cancellable);
          self->cancel_guard->future = NULL;
          cancel_guard_unref (g_steal_pointer (&self->cancel_guard));
        }
    }

  return self;
}

/* ---- notifications ------------------------------------------------------ */

static gboolean
emit_notify_state (gpointer data)
{
  ProcFuture *self = data;

  _proc_futures_lock ();
  self->notify_state_pending = FALSE;
  _proc_futures_unlock ();

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  return G_SOURCE_REMOVE;
}

static void
invoke_in_context (GMainContext *context,
                   GSourceFunc   func,
                   gpointer      data,
                   GDestroyNotify destroy)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, destroy);
  g_source_set_static_name (source, "[procexec] notification");
  g_source_attach (source, context);
  g_source_unref (source);
}

/* Called with the futures lock held after a state change. */
static void
schedule_notify_state_locked (ProcFuture *self)
{
  if (self->notify_state_pending)
    return;
  if (!g_signal_has_handler_pending (self, notify_signal_id, state_quark, TRUE))
    return;

  self->notify_state_pending = TRUE;
  invoke_in_context (self->owner_context, emit_notify_state,
                     g_object_ref (self), g_object_unref);
}

typedef struct {
  ProcFuture *future;
  double      fraction;
  GVariant   *detail;
} ProgressReport;

static void
progress_report_free (gpointer data)
{
  ProgressReport *report = data;

  g_object_unref (report->future);
  g_clear_pointer (&report->detail, g_variant_unref);
  g_free (report);
}

static gboolean
emit_progress (gpointer data)
{
  ProgressReport *report = data;

  g_signal_emit (report->future, signals[SIGNAL_PROGRESS], 0,
                 report->fraction, report->detail);
  return G_SOURCE_REMOVE;
}

void
_proc_future_report_progress (ProcFuture *self,
                              double      fraction,
                              GVariant   *detail)
{
  ProgressReport *report;

  _proc_futures_lock ();
  if (_proc_future_is_done_locked (self))
    {
      _proc_futures_unlock ();
      return;
    }
  self->progress = fraction;
  _proc_futures_unlock ();

  /* Scheduled even with no handler yet: one connected right after
   * submit(), before the context iterates, must not miss early reports. */
  report = g_new0 (ProgressReport, 1);
  report->future = g_object_ref (self);
  report->fraction = fraction;
  report->detail = detail ? g_variant_ref (detail) : NULL;
  invoke_in_context (self->owner_context, emit_progress, report, progress_report_free);
}

/* ---- done callbacks ----------------------------------------------------- */

typedef struct {
  ProcFuture *future;
  GSList     *callbacks;   /* DoneCallback, in order, all of one context */
} CallbackBatch;

static void
done_callback_free (DoneCallback *cb)
{
  if (cb->destroy)
    cb->destroy (cb->data);
  g_main_context_unref (cb->context);
  g_free (cb);
}

static void
callback_batch_free (gpointer data)
{
  CallbackBatch *batch = data;

  g_slist_free_full (batch->callbacks, (GDestroyNotify) done_callback_free);
  g_object_unref (batch->future);
  g_free (batch);
}

static gboolean
run_callback_batch (gpointer data)
{
  CallbackBatch *batch = data;

  for (GSList *l = batch->callbacks; l != NULL; l = l->next)
    {
      DoneCallback *cb = l->data;
      cb->func (batch->future, cb->data);
    }
  return G_SOURCE_REMOVE;
}

/* Schedules @callbacks (in registration order, owned) in their contexts,
 * one source per context so that order is kept within each. */
static void
dispatch_callbacks (ProcFuture *self,
                    GSList     *callbacks)
{
  while (callbacks != NULL)
    {
      GMainContext *context = ((DoneCallback *) callbacks->data)->context;
      CallbackBatch *batch = g_new0 (CallbackBatch, 1);
      GSList *rest = NULL;

      batch->future = g_object_ref (self);
      for (GSList *l = callbacks; l != NULL; l = l->next)
        {
          DoneCallback *cb = l->data;

          if (cb->context == context)
            batch->callbacks = g_slist_prepend (batch->callbacks, cb);
          else
            rest = g_slist_prepend (rest, cb);
        }
      g_slist_free (callbacks);
      batch->callbacks = g_slist_reverse (batch->callbacks);
      callbacks = g_slist_reverse (rest);

      invoke_in_context (context, run_callback_batch, batch, callback_batch_free);
    }
}

/* ---- state transitions -------------------------------------------------- */

gboolean
_proc_future_is_done_locked (ProcFuture *self)
{
  return self->state == PROC_FUTURE_STATE_FINISHED ||
         self->state == PROC_FUTURE_STATE_CANCELLED;
}

gboolean
_proc_future_failed_locked (ProcFuture *self)
{
  return self->state == PROC_FUTURE_STATE_FINISHED && self->error != NULL;
}

void
_proc_future_add_waiter_locked (ProcFuture *self,
                                ProcWaiter *waiter)
{
  self->waiters = g_slist_prepend (self->waiters, waiter);
}

void
_proc_future_remove_waiter_locked (ProcFuture *self,
                                   ProcWaiter *waiter)
{
  self->waiters = g_slist_remove (self->waiters, waiter);
}

gboolean
_proc_future_mark_running (ProcFuture *self,
                           GPid        worker_pid)
{
  gboolean ret = FALSE;

  _proc_futures_lock ();
  if (self->state == PROC_FUTURE_STATE_PENDING)
    {
      self->state = PROC_FUTURE_STATE_RUNNING;
      self->worker_pid = worker_pid;
      _proc_pool_count_transition (self->pool, PROC_FUTURE_STATE_PENDING,
                                   PROC_FUTURE_STATE_RUNNING);
      schedule_notify_state_locked (self);
      ret = TRUE;
    }
  else if (self->state == PROC_FUTURE_STATE_RUNNING)
    {
      /* Re-sent after its first worker died before starting it. */
      self->worker_pid = worker_pid;
      ret = TRUE;
    }
  _proc_futures_unlock ();

  return ret;
}

typedef struct {
  GVariant    *args;
  GUnixFDList *fd_list;
} SpentInputs;

static void
spent_inputs_free (SpentInputs *spent)
{
  g_clear_pointer (&spent->args, g_variant_unref);
  g_clear_object (&spent->fd_list);
}

/* Moves to @state; after dropping the lock, the caller dispatches the
 * returned callbacks and frees @spent. */
static GSList *
complete_locked (ProcFuture      *self,
                 ProcFutureState  state,
                 GVariant        *result,
                 GError          *error,
                 SpentInputs     *spent)
{
  GSList *waiters;

  _proc_pool_count_transition (self->pool, self->state, state);
  self->state = state;
  self->result = result;
  self->error = error;

  /* Inputs are not needed any more; the caller frees them once the lock is
   * released and the waiters are awake: unmapping a large argument or
   * closing the last fd of a memfd takes milliseconds. */
  spent->args = g_steal_pointer (&self->args);
  spent->fd_list = g_steal_pointer (&self->fd_list);

  waiters = g_steal_pointer (&self->waiters);
  for (GSList *l = waiters; l != NULL; l = l->next)
    {
      ProcWaiter *waiter = l->data;

      waiter->n_done++;
      if (waiter->func != NULL)
        waiter->func (waiter, self);
      else
        g_cond_broadcast (&waiter->cond);
    }
  g_slist_free (waiters);

  schedule_notify_state_locked (self);

  return g_slist_reverse (g_steal_pointer (&self->callbacks));
}

/* Finishes the future with @result (taken) or @error (taken), and the fds
 * @result_fds (taken) that came with a result. */
static gboolean
finish (ProcFuture  *self,
        GVariant    *result,
        GUnixFDList *result_fds,
        GError      *error)
{
  GSList *callbacks;
  SpentInputs spent;

  g_return_val_if_fail ((result == NULL) != (error == NULL), FALSE);

  _proc_futures_lock ();
  if (_proc_future_is_done_locked (self))
    {
      _proc_futures_unlock ();
      g_clear_pointer (&result, g_variant_unref);
      g_clear_object (&result_fds);
      g_clear_error (&error);
      return FALSE;
    }
  if (self->interrupted &&
      !(error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
    {
      g_clear_pointer (&result, g_variant_unref);
      g_clear_object (&result_fds);
      g_clear_error (&error);
      error = g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           "Task “%s” was interrupted", self->task_name);
    }
  self->result_fd_list = result_fds;
  callbacks = complete_locked (self, PROC_FUTURE_STATE_FINISHED, result, error, &spent);
  _proc_futures_unlock ();

  dispatch_callbacks (self, callbacks);
  spent_inputs_free (&spent);
  return TRUE;
}

gboolean
_proc_future_complete (ProcFuture *self,
                       GVariant   *result,
                       GError     *error)
{
  return finish (self, result, NULL, error);
}

gboolean
_proc_future_complete_with_fds (ProcFuture  *self,
                                GVariant    *result,
                                GUnixFDList *result_fds)
{
  return finish (self, result, result_fds, NULL);
}

static gboolean
cancel_pending (ProcFuture *self)
{
  GSList *callbacks;
  SpentInputs spent;

  _proc_futures_lock ();
  if (self->state == PROC_FUTURE_STATE_CANCELLED)
    {
      _proc_futures_unlock ();
      return TRUE;
    }
  if (self->state != PROC_FUTURE_STATE_PENDING)
    {
      _proc_futures_unlock ();
      return FALSE;
    }
  callbacks = complete_locked (self, PROC_FUTURE_STATE_CANCELLED, NULL,
                               g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                            "Task “%s” was cancelled", self->task_name),
                               &spent);
  _proc_futures_unlock ();

  dispatch_callbacks (self, callbacks);
  spent_inputs_free (&spent);
  return TRUE;
}

/* ---- public API ---------------------------------------------------------- */

/**
 * proc_future_get_task_name:
 * @self: a future
 *
 * The name of the task this future is the result of.
 *
 * Returns: (transfer none): the task name
 */
const char *
proc_future_get_task_name (ProcFuture *self)
{
  g_return_val_if_fail (PROC_IS_FUTURE (self), NULL);

  return self->task_name;
}

/**
 * proc_future_get_state:
 * @self: a future
 *
 * The state of the future.
 *
 * Returns: the state
 */
ProcFutureState
proc_future_get_state (ProcFuture *self)
{
  ProcFutureState state;

  g_return_val_if_fail (PROC_IS_FUTURE (self), PROC_FUTURE_STATE_PENDING);

  _proc_futures_lock ();
  state = self->state;
  _proc_futures_unlock ();

  return state;
}

/**
 * proc_future_is_done:
 * @self: a future
 *
 * Whether the future is finished or cancelled, as Python's `done()`.
 *
 * Returns: %TRUE when the future is done
 */
gboolean
proc_future_is_done (ProcFuture *self)
{
  ProcFutureState state = proc_future_get_state (self);

  return state == PROC_FUTURE_STATE_FINISHED || state == PROC_FUTURE_STATE_CANCELLED;
}

/**
 * proc_future_is_running:
 * @self: a future
 *
 * Whether the task has been handed to a worker and is not done, as
 * Python's `running()`.
 *
 * Returns: %TRUE while the future is RUNNING
 */
gboolean
proc_future_is_running (ProcFuture *self)
{
  return proc_future_get_state (self) == PROC_FUTURE_STATE_RUNNING;
}

/**
 * proc_future_is_cancelled:
 * @self: a future
 *
 * Whether the future was cancelled before it ran, as Python's
 * `cancelled()`.
 *
 * Returns: %TRUE when the future is CANCELLED
 */
gboolean
proc_future_is_cancelled (ProcFuture *self)
{
  return proc_future_get_state (self) == PROC_FUTURE_STATE_CANCELLED;
}

/**
 * proc_future_get_worker_pid:
 * @self: a future
 *
 * The process id of the worker the task was handed to.
 *
 * Returns: the worker's pid, or 0 if the task was never handed to one
 */
GPid
proc_future_get_worker_pid (ProcFuture *self)
{
  GPid pid;

  g_return_val_if_fail (PROC_IS_FUTURE (self), 0);

  _proc_futures_lock ();
  pid = self->worker_pid;
  _proc_futures_unlock ();

  return pid;
}

/**
 * proc_future_get_progress:
 * @self: a future
 *
 * The last progress fraction the task reported.
 *
 * Returns: a fraction from 0.0 to 1.0
 */
double
proc_future_get_progress (ProcFuture *self)
{
  double progress;

  g_return_val_if_fail (PROC_IS_FUTURE (self), 0.0);

  _proc_futures_lock ();
  progress = self->progress;
  _proc_futures_unlock ();

  return progress;
}

/**
 * proc_future_cancel:
 * @self: a future
 *
 * Cancels the task if it has not been handed to a worker yet, exactly as
 * Python's `Future.cancel()`: a PENDING future becomes CANCELLED and its
 * task never runs. A running or finished future is left alone; use
 * [method@Future.interrupt] to stop a running task.
 *
 * Returns: %TRUE if the future is cancelled, %FALSE if it is running or
 *   finished
 */
gboolean
proc_future_cancel (ProcFuture *self)
{
  g_return_val_if_fail (PROC_IS_FUTURE (self), FALSE);

  return cancel_pending (self);
}

/**
 * proc_future_interrupt:
 * @self: a future
 *
 * Stops the task whatever its state. A PENDING future is cancelled, as by
 * [method@Future.cancel]. For a RUNNING task, the `GCancellable` of its
 * [class@Task] trips in the worker; if the task has not returned after the
 * executor's [property@Executor:cancel-grace], its worker is killed and
 * replaced. Either way the future then finishes with
 * `G_IO_ERROR_CANCELLED`, and this returns at once.
 *
 * Returns: %TRUE if the future was not done yet
 */
gboolean
proc_future_interrupt (ProcFuture *self)
{
  gboolean running = FALSE;

  g_return_val_if_fail (PROC_IS_FUTURE (self), FALSE);

  if (cancel_pending (self))
    return TRUE;

  _proc_futures_lock ();
  if (self->state == PROC_FUTURE_STATE_RUNNING)
    {
      running = TRUE;
      if (!self->interrupted)
        {
          self->interrupted = TRUE;
          _proc_futures_unlock ();
          _proc_pool_interrupt (self->pool, self);
          return TRUE;
        }
    }
  _proc_futures_unlock ();

  return running;
}

/* Waits, with the lock held, until the future is done or @end_time. */
static gboolean
wait_locked (ProcFuture *self,
             gint64      timeout_usec)
{
  ProcWaiter waiter = { 0 };
  gint64 end_time;

  if (_proc_future_is_done_locked (self))
    return TRUE;
  if (timeout_usec == 0)
    return FALSE;

  end_time = timeout_usec < 0 ? -1 : g_get_monotonic_time () + timeout_usec;
  if (self->state == PROC_FUTURE_STATE_RUNNING)
    {
      /* Rather than sleep until the I/O thread has read the reply and
       * woken us, this thread may read it itself. */
      _proc_futures_unlock ();
      _proc_pool_read_until_done (self->pool, self, end_time);
      _proc_futures_lock ();
      if (_proc_future_is_done_locked (self))
        return TRUE;
    }
  g_cond_init (&waiter.cond);
  _proc_future_add_waiter_locked (self, &waiter);
  while (!_proc_future_is_done_locked (self))
    {
      _proc_futures_wait (&waiter, end_time);
      if (end_time >= 0 && g_get_monotonic_time () >= end_time)
        break;
    }
  _proc_future_remove_waiter_locked (self, &waiter);
  g_cond_clear (&waiter.cond);

  return _proc_future_is_done_locked (self);
}

/**
 * proc_future_wait:
 * @self: a future
 * @timeout_usec: how long to wait, in microseconds; -1 waits forever and 0
 *   does not wait
 *
 * Blocks until the future is done or the timeout expires. Safe from any
 * thread, the main thread included.
 *
 * Returns: %TRUE if the future is done
 */
gboolean
proc_future_wait (ProcFuture *self,
                  gint64      timeout_usec)
{
  gboolean done;

  g_return_val_if_fail (PROC_IS_FUTURE (self), FALSE);

  _proc_futures_lock ();
  done = wait_locked (self, timeout_usec);
  _proc_futures_unlock ();

  return done;
}

static GVariant *
take_outcome_locked (ProcFuture  *self,
                     GError     **error)
{
  if (!_proc_future_is_done_locked (self))
    return NULL;
  if (self->error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->error));
      return NULL;
    }
  return g_variant_ref (self->result);
}

/**
 * proc_future_result:
 * @self: a future
 * @timeout_usec: how long to wait, in microseconds; -1 waits forever and 0
 *   does not wait
 * @error: return location for the task's error, or the wait's
 *
 * Waits for the task and returns its result, as Python's `result()`.
 *
 * The error is the task's own (same domain, code and message as in the
 * worker), a `PROC_ERROR` such as [error@Error.WORKER_DIED], or
 * `G_IO_ERROR_CANCELLED` for a cancelled future. When the timeout expires
 * first, the error is `G_IO_ERROR_TIMED_OUT` and the task goes on.
 *
 * Safe from any thread, the main thread included: the executor does its
 * I/O on a thread of its own.
 *
 * Returns: (transfer full): the task's result
 */
GVariant *
proc_future_result (ProcFuture  *self,
                    gint64       timeout_usec,
                    GError     **error)
{
  GVariant *result;

  g_return_val_if_fail (PROC_IS_FUTURE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  _proc_futures_lock ();
  if (!wait_locked (self, timeout_usec))
    {
      _proc_futures_unlock ();
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                   "Task “%s” is not done yet", self->task_name);
      return NULL;
    }
  result = take_outcome_locked (self, error);
  _proc_futures_unlock ();

  return result;
}

/**
 * proc_future_get_result_fd_list:
 * @self: a future
 *
 * The file descriptors the task sent back with its result (see
 * [method@Task.set_result_fd_list]); handles (`h`) in the result index
 * this list. Take them out with g_unix_fd_list_get(), which duplicates.
 *
 * Does not wait: call it once the future is done.
 *
 * Returns: (transfer none) (nullable): the fd list, or %NULL when the task
 *   is not done, did not succeed or sent no fds
 */
GUnixFDList *
proc_future_get_result_fd_list (ProcFuture *self)
{
  GUnixFDList *fds;

  g_return_val_if_fail (PROC_IS_FUTURE (self), NULL);

  _proc_futures_lock ();
  fds = self->result_fd_list;
  _proc_futures_unlock ();

  return fds;
}

/**
 * proc_future_exception:
 * @self: a future
 * @timeout_usec: how long to wait, in microseconds; -1 waits forever and 0
 *   does not wait
 * @error: return location for an error of the wait itself
 *
 * Waits for the task and returns its error, as Python's `exception()`.
 *
 * @error is set, and %NULL returned, only when the wait itself fails:
 * `G_IO_ERROR_TIMED_OUT` when the timeout expires, `G_IO_ERROR_CANCELLED`
 * when the future was cancelled.
 *
 * Returns: (transfer full) (nullable): the task's error, or %NULL if it
 *   succeeded
 */
GError *
proc_future_exception (ProcFuture  *self,
                       gint64       timeout_usec,
                       GError     **error)
{
  GError *task_error = NULL;

  g_return_val_if_fail (PROC_IS_FUTURE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  _proc_futures_lock ();
  if (!wait_locked (self, timeout_usec))
    {
      _proc_futures_unlock ();
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                   "Task “%s” is not done yet", self->task_name);
      return NULL;
    }
  if (self->state == PROC_FUTURE_STATE_CANCELLED)
    g_propagate_error (error, g_error_copy (self->error));
  else if (self->error != NULL)
    task_error = g_error_copy (self->error);
  _proc_futures_unlock ();

  return task_error;
}

/**
 * proc_future_peek_result:
 * @self: a future
 * @error: return location for an error
 *
 * Returns the result without waiting: the task's result or error if the
 * future is done, else [error@Error.PENDING].
 *
 * Returns: (transfer full): the task's result
 */
GVariant *
proc_future_peek_result (ProcFuture  *self,
                         GError     **error)
{
  GVariant *result;

  g_return_val_if_fail (PROC_IS_FUTURE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  _proc_futures_lock ();
  if (!_proc_future_is_done_locked (self))
    {
      _proc_futures_unlock ();
      g_set_error (error, PROC_ERROR, PROC_ERROR_PENDING,
                   "Task “%s” is not done yet", self->task_name);
      return NULL;
    }
  result = take_outcome_locked (self, error);
  _proc_futures_unlock ();

  return result;
}

/* ---- wait_async ---------------------------------------------------------- */

typedef struct {
  ProcWaiter  waiter;
  GTask      *task;
  gulong      cancel_id;
  gboolean    settled;     /* under the futures lock */
} AsyncWait;

static gboolean
async_wait_return (gpointer data)
{
  AsyncWait *wait = data;
  ProcFuture *self = g_task_get_source_object (wait->task);
  GCancellable *cancellable = g_task_get_cancellable (wait->task);
  GError *error = NULL;
  GVariant *result;

  if (wait->cancel_id != 0)
    g_cancellable_disconnect (cancellable, wait->cancel_id);

  _proc_futures_lock ();
  result = take_outcome_locked (self, &error);
  _proc_futures_unlock ();

  if (result == NULL && error == NULL)
    g_task_return_new_error (wait->task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                             "The wait was cancelled");
  else if (error != NULL)
    g_task_return_error (wait->task, error);
  else
    g_task_return_pointer (wait->task, result, (GDestroyNotify) g_variant_unref);

  return G_SOURCE_REMOVE;
}

static void
async_wait_free (gpointer data)
{
  AsyncWait *wait = data;

  g_object_unref (wait->task);
  g_free (wait);
}

/* Under the futures lock: the future is done. */
static void
async_wait_done (ProcWaiter *waiter,
                 ProcFuture *future)
{
  AsyncWait *wait = waiter->data;

  if (wait->settled)
    return;
  wait->settled = TRUE;
  invoke_in_context (g_task_get_context (wait->task), async_wait_return, wait, async_wait_free);
}

static void
async_wait_cancelled (GCancellable *cancellable,
                      gpointer      data)
{
  AsyncWait *wait = data;
  ProcFuture *self = g_task_get_source_object (wait->task);

  _proc_futures_lock ();
  if (!wait->settled)
    {
      wait->settled = TRUE;
      _proc_future_remove_waiter_locked (self, &wait->waiter);
      invoke_in_context (g_task_get_context (wait->task), async_wait_return, wait, async_wait_free);
    }
  _proc_futures_unlock ();
}

/**
 * proc_future_wait_async:
 * @self: a future
 * @cancellable: (nullable): cancels the wait, not the task
 * @callback: (scope async): called when the future is done
 * @user_data: data for @callback
 *
 * Waits for the future without blocking. @callback is invoked in the
 * thread-default main context of the thread that calls this, in a later
 * iteration, even when the future is already done.
 *
 * Cancelling @cancellable ends the wait with `G_IO_ERROR_CANCELLED` and
 * leaves the task alone; see [method@Future.interrupt] to stop the task.
 */
void
proc_future_wait_async (ProcFuture          *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  AsyncWait *wait;

  g_return_if_fail (PROC_IS_FUTURE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  wait = g_new0 (AsyncWait, 1);
  wait->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (wait->task, proc_future_wait_async);
  wait->waiter.func = async_wait_done;
  wait->waiter.data = wait;

  _proc_futures_lock ();
  if (_proc_future_is_done_locked (self))
    {
      wait->settled = TRUE;
      invoke_in_context (g_task_get_context (wait->task), async_wait_return, wait, async_wait_free);
      _proc_futures_unlock ();
      return;
    }
  _proc_future_add_waiter_locked (self, &wait->waiter);
  _proc_futures_unlock ();

  /* Connected after the waiter: a cancellable that is already cancelled
   * runs the handler right away, which needs the waiter in place. The
   * task holds @wait alive until the return source has run, and that
   * source disconnects first. */
  if (cancellable != NULL)
    {
      gulong id = g_cancellable_connect (cancellable, G_CALLBACK (async_wait_cancelled), wait, NULL);

      _proc_futures_lock ();
      wait->cancel_id = id;
      _proc_futures_unlock ();
    }
}

/**
 * proc_future_wait_finish:
 * @self: a future
 * @result: the result given to the callback
 * @error: return location for the task's error
 *
 * Finishes [method@Future.wait_async].
 *
 * Returns: (transfer full): the task's result
 */
GVariant *
proc_future_wait_finish (ProcFuture    *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (PROC_IS_FUTURE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * proc_future_add_done_callback:
 * @self: a future
 * @callback: (scope notified) (closure user_data) (destroy destroy): called once the future is done
 * @user_data: data for @callback
 * @destroy: (nullable): frees @user_data after @callback ran
 *
 * Arranges for @callback to run once the future is done (finished or
 * cancelled), as Python's `add_done_callback()`.
 *
 * Threading rule: @callback runs in the thread-default main context of the
 * thread that calls this function, in a later iteration of it — also when
 * the future is already done. Callbacks added from one context run in the
 * order they were added. They never run on the executor's I/O thread, so a
 * callback that blocks or misbehaves cannot stall the pool.
 */
void
proc_future_add_done_callback (ProcFuture         *self,
                               ProcFutureDoneFunc  callback,
                               gpointer            user_data,
                               GDestroyNotify      destroy)
{
  DoneCallback *cb;

  g_return_if_fail (PROC_IS_FUTURE (self));
  g_return_if_fail (callback != NULL);

  cb = g_new0 (DoneCallback, 1);
  cb->func = callback;
  cb->data = user_data;
  cb->destroy = destroy;
  cb->context = g_main_context_ref_thread_default ();

  _proc_futures_lock ();
  if (!_proc_future_is_done_locked (self))
    {
      self->callbacks = g_slist_prepend (self->callbacks, cb);
      _proc_futures_unlock ();
      return;
    }
  _proc_futures_unlock ();

  dispatch_callbacks (self, g_slist_prepend (NULL, cb));
}
