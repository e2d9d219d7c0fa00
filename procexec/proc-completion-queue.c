/* proc-completion-queue.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "proc-completion-queue.h"
#include "proc-enums.h"
#include "proc-future-private.h"

/**
 * ProcCompletionQueue:
 *
 * Hands back futures as they complete, in completion order — a completion
 * service, as Java's `ExecutorCompletionService`, and what
 * [class@AsCompleted] is built on.
 *
 * Add futures from any executor with [method@CompletionQueue.add]; take
 * them back one at a time ([method@CompletionQueue.next]), in batches
 * ([method@CompletionQueue.take], which is what language bindings use to
 * settle many futures per wake-up), or asynchronously
 * ([method@CompletionQueue.next_async]). All methods are safe from any
 * thread. [method@CompletionQueue.close] wakes every waiter, for a thread
 * that serves the queue to end.
 */
struct _ProcCompletionQueue {
  GObject     parent_instance;

  ProcWaiter  waiter;
  /* Under the futures lock. */
  GHashTable *pending;   /* ProcFuture → itself, owned */
  GQueue      ready;     /* ProcFuture, owned */
  gboolean    closed;
  GTask      *async_task;
  gulong      async_cancel_id;
};

G_DEFINE_FINAL_TYPE (ProcCompletionQueue, proc_completion_queue, G_TYPE_OBJECT)

static gboolean async_next_return (gpointer data);

/* Under the futures lock: answers a pending next_async() in its context. */
static void
schedule_async_return_locked (ProcCompletionQueue *self)
{
  GTask *task = g_steal_pointer (&self->async_task);
  GSource *source;

  if (task == NULL)
    return;

  source = g_idle_source_new ();
  g_source_set_callback (source, async_next_return, task, g_object_unref);
  g_source_set_static_name (source, "[procexec] completion queue");
  g_source_attach (source, g_task_get_context (task));
  g_source_unref (source);
}

/* Under the futures lock: one of our futures is done. */
static void
future_done (ProcWaiter *waiter,
             ProcFuture *future)
{
  ProcCompletionQueue *self = waiter->data;

  if (g_hash_table_steal (self->pending, future))
    g_queue_push_tail (&self->ready, future);
  g_cond_broadcast (&waiter->cond);
  schedule_async_return_locked (self);
}

static void
proc_completion_queue_finalize (GObject *object)
{
  ProcCompletionQueue *self = PROC_COMPLETION_QUEUE (object);
  GHashTableIter iter;
  gpointer future;

  _proc_futures_lock ();
  g_hash_table_iter_init (&iter, self->pending);
  while (g_hash_table_iter_next (&iter, &future, NULL))
    _proc_future_remove_waiter_locked (future, &self->waiter);
  _proc_futures_unlock ();

  g_hash_table_unref (self->pending);
  g_queue_clear_full (&self->ready, g_object_unref);
  g_cond_clear (&self->waiter.cond);

  G_OBJECT_CLASS (proc_completion_queue_parent_class)->finalize (object);
}

static void
proc_completion_queue_class_init (ProcCompletionQueueClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = proc_completion_queue_finalize;
}

static void
proc_completion_queue_init (ProcCompletionQueue *self)
{
  self->pending = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  g_queue_init (&self->ready);
  g_cond_init (&self->waiter.cond);
  self->waiter.func = future_done;
  self->waiter.data = self;
}

/**
 * proc_completion_queue_new:
 *
 * Creates an empty completion queue.
 *
 * Returns: (transfer full): a new completion queue
 */
ProcCompletionQueue *
proc_completion_queue_new (void)
{
  return g_object_new (PROC_TYPE_COMPLETION_QUEUE, NULL);
}

/**
 * proc_completion_queue_add:
 * @self: a completion queue
 * @future: a future
 *
 * Arranges for @future to be handed back once it is done; a future that is
 * done already is ready at once. Adding a future that is still pending in
 * the queue does nothing.
 */
void
proc_completion_queue_add (ProcCompletionQueue *self,
                           ProcFuture          *future)
{
  g_return_if_fail (PROC_IS_COMPLETION_QUEUE (self));
  g_return_if_fail (PROC_IS_FUTURE (future));

  _proc_futures_lock ();
  if (_proc_future_is_done_locked (future))
    {
      g_queue_push_tail (&self->ready, g_object_ref (future));
      g_cond_broadcast (&self->waiter.cond);
      schedule_async_return_locked (self);
    }
  else if (g_hash_table_add (self->pending, g_object_ref (future)))
    _proc_future_add_waiter_locked (future, &self->waiter);
  _proc_futures_unlock ();
}

/**
 * proc_completion_queue_remove:
 * @self: a completion queue
 * @future: a future
 *
 * Forgets @future: it will not be handed back, and its completion wakes
 * no thread waiting on the queue. A thread that waits for one future
 * itself removes it first, so that the thread serving the queue is not
 * woken for it too; adding it back later is allowed, and hands it back at
 * once if it is done by then.
 *
 * Returns: %TRUE if @future was in the queue, pending or ready (not taken
 *   yet); %FALSE if it was not
 */
gboolean
proc_completion_queue_remove (ProcCompletionQueue *self,
                              ProcFuture          *future)
{
  gboolean found = FALSE;

  g_return_val_if_fail (PROC_IS_COMPLETION_QUEUE (self), FALSE);
  g_return_val_if_fail (PROC_IS_FUTURE (future), FALSE);

  _proc_futures_lock ();
  if (g_hash_table_steal (self->pending, future))
    {
      _proc_future_remove_waiter_locked (future, &self->waiter);
      found = TRUE;
    }
  else if (g_queue_remove (&self->ready, future))
    found = TRUE;
  _proc_futures_unlock ();

  /* The queue's reference, dropped outside the lock: it may be the last,
   * and the teardown of a binding's wrapper (a toggle reference) may then
   * take the binding's own lock. */
  if (found)
    g_object_unref (future);
  return found;
}

/**
 * proc_completion_queue_get_n_pending:
 * @self: a completion queue
 *
 * The number of futures added and not done yet.
 *
 * Returns: the number of futures added and not done yet
 */
guint
proc_completion_queue_get_n_pending (ProcCompletionQueue *self)
{
  guint n;

  g_return_val_if_fail (PROC_IS_COMPLETION_QUEUE (self), 0);

  _proc_futures_lock ();
  n = g_hash_table_size (self->pending);
  _proc_futures_unlock ();

  return n;
}

/**
 * proc_completion_queue_get_n_ready:
 * @self: a completion queue
 *
 * The number of futures done and not taken yet.
 *
 * Returns: the number of futures done and not taken yet
 */
guint
proc_completion_queue_get_n_ready (ProcCompletionQueue *self)
{
  guint n;

  g_return_val_if_fail (PROC_IS_COMPLETION_QUEUE (self), 0);

  _proc_futures_lock ();
  n = self->ready.length;
  _proc_futures_unlock ();

  return n;
}

/* With the lock held: waits until a future is ready, the queue is closed
 * or @timeout_usec passes. */
static void
wait_ready_locked (ProcCompletionQueue *self,
                   gint64               timeout_usec)
{
  gint64 end_time = timeout_usec < 0 ? -1 : g_get_monotonic_time () + timeout_usec;

  if (timeout_usec == 0)
    return;
  while (g_queue_is_empty (&self->ready) && !self->closed)
    {
      _proc_futures_wait (&self->waiter, end_time);
      if (end_time >= 0 && g_get_monotonic_time () >= end_time)
        break;
    }
}

/**
 * proc_completion_queue_next:
 * @self: a completion queue
 * @timeout_usec: how long to wait, in microseconds; -1 waits forever and 0
 *   does not wait
 *
 * Takes the next future that completed, waiting for one if none is ready.
 *
 * Returns: (transfer full) (nullable): a completed future, or %NULL if none
 *   completed in time or the queue was closed
 */
ProcFuture *
proc_completion_queue_next (ProcCompletionQueue *self,
                            gint64               timeout_usec)
{
  ProcFuture *future;

  g_return_val_if_fail (PROC_IS_COMPLETION_QUEUE (self), NULL);

  _proc_futures_lock ();
  wait_ready_locked (self, timeout_usec);
  future = g_queue_pop_head (&self->ready);
  _proc_futures_unlock ();

  return future;
}

/**
 * proc_completion_queue_take:
 * @self: a completion queue
 * @timeout_usec: how long to wait for the first one, in microseconds; -1
 *   waits forever and 0 does not wait
 *
 * Takes every future that completed, waiting until at least one has if
 * none is ready.
 *
 * Returns: (transfer container) (element-type ProcFuture): the completed
 *   futures in completion order; empty if none completed in time or the
 *   queue was closed
 */
GPtrArray *
proc_completion_queue_take (ProcCompletionQueue *self,
                            gint64               timeout_usec)
{
  GPtrArray *futures;
  ProcFuture *future;

  g_return_val_if_fail (PROC_IS_COMPLETION_QUEUE (self), NULL);

  _proc_futures_lock ();
  wait_ready_locked (self, timeout_usec);
  futures = g_ptr_array_new_full (self->ready.length, g_object_unref);
  while ((future = g_queue_pop_head (&self->ready)))
    g_ptr_array_add (futures, future);
  _proc_futures_unlock ();

  return futures;
}

/**
 * proc_completion_queue_close:
 * @self: a completion queue
 *
 * Wakes every thread waiting on the queue, now and later: waits return at
 * once when nothing is ready. Futures that complete are still queued.
 */
void
proc_completion_queue_close (ProcCompletionQueue *self)
{
  g_return_if_fail (PROC_IS_COMPLETION_QUEUE (self));

  _proc_futures_lock ();
  self->closed = TRUE;
  g_cond_broadcast (&self->waiter.cond);
  schedule_async_return_locked (self);
  _proc_futures_unlock ();
}

static gboolean
async_next_return (gpointer data)
{
  GTask *task = data;
  ProcCompletionQueue *self = g_task_get_source_object (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  ProcFuture *future;

  if (self->async_cancel_id != 0)
    {
      g_cancellable_disconnect (cancellable, self->async_cancel_id);
      self->async_cancel_id = 0;
    }

  _proc_futures_lock ();
  future = g_queue_pop_head (&self->ready);
  _proc_futures_unlock ();

  if (future != NULL)
    g_task_return_pointer (task, future, g_object_unref);
  else if (cancellable != NULL && g_cancellable_is_cancelled (cancellable))
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "The wait was cancelled");
  else
    g_task_return_pointer (task, NULL, NULL);

  return G_SOURCE_REMOVE;
}

static void
async_cancelled (GCancellable *cancellable,
                 gpointer      data)
{
  ProcCompletionQueue *self = data;

  _proc_futures_lock ();
  schedule_async_return_locked (self);
  _proc_futures_unlock ();
}

/**
 * proc_completion_queue_next_async:
 * @self: a completion queue
 * @cancellable: (nullable): cancels this wait
 * @callback: (scope async): called with the next completed future
 * @user_data: data for @callback
 *
 * Waits for the next completed future without blocking, calling back in
 * the thread-default main context of the thread that calls this. Only one
 * call may be in progress at a time.
 */
void
proc_completion_queue_next_async (ProcCompletionQueue *self,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  GTask *task;
  gboolean answer_now;

  g_return_if_fail (PROC_IS_COMPLETION_QUEUE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, proc_completion_queue_next_async);

  _proc_futures_lock ();
  if (self->async_task != NULL || self->async_cancel_id != 0)
    {
      _proc_futures_unlock ();
      g_task_return_new_error (task, PROC_ERROR, PROC_ERROR_PENDING,
                               "Another next_async() is in progress on this queue");
      g_object_unref (task);
      return;
    }
  self->async_task = task;
  answer_now = !g_queue_is_empty (&self->ready) || self->closed;
  if (answer_now)
    schedule_async_return_locked (self);
  _proc_futures_unlock ();

  if (!answer_now && cancellable != NULL)
    self->async_cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (async_cancelled),
                                                   self, NULL);
}

/**
 * proc_completion_queue_next_finish:
 * @self: a completion queue
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Finishes [method@CompletionQueue.next_async].
 *
 * Returns: (transfer full) (nullable): the next completed future; %NULL if
 *   the queue was closed, or with `G_IO_ERROR_CANCELLED`
 */
ProcFuture *
proc_completion_queue_next_finish (ProcCompletionQueue  *self,
                                   GAsyncResult         *result,
                                   GError              **error)
{
  g_return_val_if_fail (PROC_IS_COMPLETION_QUEUE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
