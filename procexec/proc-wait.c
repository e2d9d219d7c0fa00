/* proc-wait.c: waiting on several futures at once
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "proc-enums.h"
#include "proc-future-private.h"
#include "proc-wait.h"

/* The futures of @futures, each once, in their first order. */
static GPtrArray *
unique_futures (ProcFuture **futures,
                guint        n_futures)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  GPtrArray *unique = g_ptr_array_new_full (n_futures, g_object_unref);

  for (guint i = 0; i < n_futures; i++)
    {
      if (futures[i] == NULL || !PROC_IS_FUTURE (futures[i]))
        {
          g_critical ("%s: element %u is not a ProcFuture", G_STRFUNC, i);
          continue;
        }
      if (g_hash_table_add (seen, futures[i]))
        g_ptr_array_add (unique, g_object_ref (futures[i]));
    }

  return unique;
}

static gboolean
condition_met_locked (GPtrArray    *futures,
                      ProcWaitMode  mode)
{
  guint n_done = 0;

  for (guint i = 0; i < futures->len; i++)
    {
      ProcFuture *future = g_ptr_array_index (futures, i);

      if (!_proc_future_is_done_locked (future))
        continue;
      n_done++;
      if (mode == PROC_WAIT_FIRST_COMPLETED)
        return TRUE;
      if (mode == PROC_WAIT_FIRST_EXCEPTION && _proc_future_failed_locked (future))
        return TRUE;
    }

  return n_done == futures->len;
}

/**
 * proc_wait_futures:
 * @futures: (array length=n_futures): the futures to wait for
 * @n_futures: the number of futures
 * @mode: when to return
 * @timeout_usec: how long to wait, in microseconds; -1 waits forever and 0
 *   does not wait
 * @done: (out) (optional) (transfer container) (element-type ProcFuture):
 *   the futures done when the wait ended
 * @not_done: (out) (optional) (transfer container) (element-type ProcFuture):
 *   the others
 *
 * Waits for several futures, as Python's `concurrent.futures.wait()`.
 * Futures given more than once count once. A future that failed is one
 * that finished with an error; a cancelled future is done but did not fail.
 * With [enum@WaitMode.FIRST_EXCEPTION] and no failure, it waits for all.
 *
 * Returns: %TRUE if the condition of @mode was met, %FALSE if the timeout
 *   expired first
 */
gboolean
proc_wait_futures (ProcFuture   **futures,
                   guint          n_futures,
                   ProcWaitMode   mode,
                   gint64         timeout_usec,
                   GPtrArray    **done,
                   GPtrArray    **not_done)
{
  g_autoptr(GPtrArray) unique = NULL;
  ProcWaiter waiter = { 0 };
  gint64 end_time;
  gboolean met;

  g_return_val_if_fail (futures != NULL || n_futures == 0, FALSE);
  g_return_val_if_fail (mode <= PROC_WAIT_ALL_COMPLETED, FALSE);

  unique = unique_futures (futures, n_futures);
  end_time = timeout_usec < 0 ? -1 : g_get_monotonic_time () + timeout_usec;

  _proc_futures_lock ();
  met = condition_met_locked (unique, mode);
  if (!met && timeout_usec != 0)
    {
      g_cond_init (&waiter.cond);
      for (guint i = 0; i < unique->len; i++)
        if (!_proc_future_is_done_locked (g_ptr_array_index (unique, i)))
          _proc_future_add_waiter_locked (g_ptr_array_index (unique, i), &waiter);

      while (!(met = condition_met_locked (unique, mode)))
        {
          _proc_futures_wait (&waiter, end_time);
          if (end_time >= 0 && g_get_monotonic_time () >= end_time)
            {
              met = condition_met_locked (unique, mode);
              break;
            }
        }

      for (guint i = 0; i < unique->len; i++)
        _proc_future_remove_waiter_locked (g_ptr_array_index (unique, i), &waiter);
      g_cond_clear (&waiter.cond);
    }

  if (done != NULL)
    *done = g_ptr_array_new_with_free_func (g_object_unref);
  if (not_done != NULL)
    *not_done = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < unique->len; i++)
    {
      ProcFuture *future = g_ptr_array_index (unique, i);
      GPtrArray *into = _proc_future_is_done_locked (future) ? (done ? *done : NULL)
                                                              : (not_done ? *not_done : NULL);
      if (into != NULL)
        g_ptr_array_add (into, g_object_ref (future));
    }
  _proc_futures_unlock ();

  return met;
}

/**
 * ProcAsCompleted:
 *
 * Yields futures as they complete, as Python's
 * `concurrent.futures.as_completed()`: first those already done, then the
 * others in the order they finish. Futures given more than once are
 * yielded once. The timeout counts from the creation of the iterator.
 *
 * ```c
 * g_autoptr(ProcAsCompleted) it = proc_as_completed_new (futures, n, -1);
 * ProcFuture *future;
 * while ((future = proc_as_completed_next (it, &error)))
 *   {
 *     …
 *     g_object_unref (future);
 *   }
 * ```
 */
struct _ProcAsCompleted {
  GObject       parent_instance;

  ProcWaiter    waiter;
  GPtrArray    *pending;   /* not done yet, under the futures lock */
  GQueue        ready;     /* done, not yielded yet (owned refs) */
  guint         total;
  gint64        deadline;

  GTask        *async_task;    /* under the futures lock */
  gulong        async_cancel_id;
  GSource      *async_timeout;
};

G_DEFINE_FINAL_TYPE (ProcAsCompleted, proc_as_completed, G_TYPE_OBJECT)

static gboolean async_next_return (gpointer data);

/* Under the futures lock: hands the pending next_async() its answer. */
static void
schedule_async_return_locked (ProcAsCompleted *self)
{
  GTask *task = g_steal_pointer (&self->async_task);
  GSource *source;

  if (task == NULL)
    return;

  source = g_idle_source_new ();
  g_source_set_callback (source, async_next_return, task, g_object_unref);
  g_source_set_static_name (source, "[procexec] as_completed");
  g_source_attach (source, g_task_get_context (task));
  g_source_unref (source);
}

/* Under the futures lock: one of our futures is done. */
static void
future_done (ProcWaiter *waiter,
             ProcFuture *future)
{
  ProcAsCompleted *self = waiter->data;
  guint index;

  if (g_ptr_array_find (self->pending, future, &index))
    g_queue_push_tail (&self->ready, g_ptr_array_steal_index (self->pending, index));
  g_cond_broadcast (&waiter->cond);
  schedule_async_return_locked (self);
}

static void
proc_as_completed_finalize (GObject *object)
{
  ProcAsCompleted *self = PROC_AS_COMPLETED (object);

  _proc_futures_lock ();
  for (guint i = 0; i < self->pending->len; i++)
    _proc_future_remove_waiter_locked (g_ptr_array_index (self->pending, i), &self->waiter);
  _proc_futures_unlock ();

  g_ptr_array_unref (self->pending);
  g_queue_clear_full (&self->ready, g_object_unref);
  g_cond_clear (&self->waiter.cond);

  G_OBJECT_CLASS (proc_as_completed_parent_class)->finalize (object);
}

static void
proc_as_completed_class_init (ProcAsCompletedClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = proc_as_completed_finalize;
}

static void
proc_as_completed_init (ProcAsCompleted *self)
{
  g_cond_init (&self->waiter.cond);
  self->waiter.func = future_done;
  self->waiter.data = self;
  g_queue_init (&self->ready);
}

/**
 * proc_as_completed_new:
 * @futures: (array length=n_futures): the futures
 * @n_futures: the number of futures
 * @timeout_usec: how long the whole iteration may take, in microseconds
 *   from now; -1 for no limit
 *
 * Creates an iterator yielding @futures as they complete.
 *
 * Returns: (transfer full): a new iterator
 */
ProcAsCompleted *
proc_as_completed_new (ProcFuture **futures,
                       guint        n_futures,
                       gint64       timeout_usec)
{
  ProcAsCompleted *self;
  g_autoptr(GPtrArray) unique = NULL;

  g_return_val_if_fail (futures != NULL || n_futures == 0, NULL);

  self = g_object_new (PROC_TYPE_AS_COMPLETED, NULL);
  unique = unique_futures (futures, n_futures);
  self->total = unique->len;
  self->deadline = timeout_usec < 0 ? -1 : g_get_monotonic_time () + timeout_usec;
  self->pending = g_ptr_array_new_full (unique->len, g_object_unref);

  _proc_futures_lock ();
  for (guint i = 0; i < unique->len; i++)
    {
      ProcFuture *future = g_object_ref (g_ptr_array_index (unique, i));

      if (_proc_future_is_done_locked (future))
        g_queue_push_tail (&self->ready, future);
      else
        {
          g_ptr_array_add (self->pending, future);
          _proc_future_add_waiter_locked (future, &self->waiter);
        }
    }
  _proc_futures_unlock ();

  return self;
}

static void
set_timeout_error (ProcAsCompleted  *self,
                   guint             n_pending,
                   GError          **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
               "%u (of %u) futures unfinished", n_pending, self->total);
}

/**
 * proc_as_completed_next:
 * @self: an iterator
 * @error: return location for an error
 *
 * Waits for the next future to complete.
 *
 * Returns: (transfer full) (nullable): the next completed future; %NULL at
 *   the end, or with `G_IO_ERROR_TIMED_OUT` when the timeout expired
 */
ProcFuture *
proc_as_completed_next (ProcAsCompleted  *self,
                        GError          **error)
{
  ProcFuture *future = NULL;

  g_return_val_if_fail (PROC_IS_AS_COMPLETED (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  _proc_futures_lock ();
  while (g_queue_is_empty (&self->ready) && self->pending->len > 0)
    {
      if (self->deadline >= 0 && g_get_monotonic_time () >= self->deadline)
        {
          set_timeout_error (self, self->pending->len, error);
          break;
        }
      _proc_futures_wait (&self->waiter, self->deadline);
    }
  future = g_queue_pop_head (&self->ready);
  _proc_futures_unlock ();

  return future;
}

static gboolean
async_next_return (gpointer data)
{
  GTask *task = data;
  ProcAsCompleted *self = g_task_get_source_object (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  ProcFuture *future;
  guint n_pending;

  if (self->async_timeout != NULL)
    {
      g_source_destroy (self->async_timeout);
      g_clear_pointer (&self->async_timeout, g_source_unref);
    }
  if (self->async_cancel_id != 0)
    {
      g_cancellable_disconnect (cancellable, self->async_cancel_id);
      self->async_cancel_id = 0;
    }

  _proc_futures_lock ();
  future = g_queue_pop_head (&self->ready);
  n_pending = self->pending->len;
  _proc_futures_unlock ();

  if (future != NULL)
    g_task_return_pointer (task, future, g_object_unref);
  else if (n_pending == 0)
    g_task_return_pointer (task, NULL, NULL);
  else if (cancellable != NULL && g_cancellable_is_cancelled (cancellable))
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "The wait was cancelled");
  else
    {
      GError *error = NULL;

      set_timeout_error (self, n_pending, &error);
      g_task_return_error (task, error);
    }

  return G_SOURCE_REMOVE;
}

static gboolean
async_timeout_cb (gpointer data)
{
  ProcAsCompleted *self = data;

  g_clear_pointer (&self->async_timeout, g_source_unref);
  _proc_futures_lock ();
  schedule_async_return_locked (self);
  _proc_futures_unlock ();
  return G_SOURCE_REMOVE;
}

static void
async_cancelled (GCancellable *cancellable,
                 gpointer      data)
{
  ProcAsCompleted *self = data;

  _proc_futures_lock ();
  schedule_async_return_locked (self);
  _proc_futures_unlock ();
}

/**
 * proc_as_completed_next_async:
 * @self: an iterator
 * @cancellable: (nullable): cancels this wait
 * @callback: (scope async): called with the next completed future
 * @user_data: data for @callback
 *
 * Waits for the next future to complete without blocking, calling back in
 * the thread-default main context of the thread that calls this. Only one
 * call may be in progress at a time.
 */
void
proc_as_completed_next_async (ProcAsCompleted     *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  GTask *task;
  gboolean answer_now;

  g_return_if_fail (PROC_IS_AS_COMPLETED (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, proc_as_completed_next_async);

  _proc_futures_lock ();
  if (self->async_task != NULL || self->async_timeout != NULL || self->async_cancel_id != 0)
    {
      _proc_futures_unlock ();
      g_task_return_new_error (task, PROC_ERROR, PROC_ERROR_PENDING,
                               "Another next_async() is in progress on this iterator");
      g_object_unref (task);
      return;
    }
  self->async_task = task;
  answer_now = !g_queue_is_empty (&self->ready) || self->pending->len == 0 ||
               (self->deadline >= 0 && g_get_monotonic_time () >= self->deadline);
  if (answer_now)
    schedule_async_return_locked (self);
  _proc_futures_unlock ();

  if (answer_now)
    return;

  if (self->deadline >= 0)
    {
      gint64 remaining = MAX (self->deadline - g_get_monotonic_time (), 0);

      self->async_timeout = g_timeout_source_new (remaining / 1000 + 1);
      g_source_set_callback (self->async_timeout, async_timeout_cb, self, NULL);
      g_source_attach (self->async_timeout, g_task_get_context (task));
    }
  if (cancellable != NULL)
    self->async_cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (async_cancelled),
                                                   self, NULL);
}

/**
 * proc_as_completed_next_finish:
 * @self: an iterator
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Finishes [method@AsCompleted.next_async].
 *
 * Returns: (transfer full) (nullable): the next completed future; %NULL at
 *   the end, or with an error
 */
ProcFuture *
proc_as_completed_next_finish (ProcAsCompleted  *self,
                               GAsyncResult     *result,
                               GError          **error)
{
  g_return_val_if_fail (PROC_IS_AS_COMPLETED (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
