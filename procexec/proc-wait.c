/* proc-wait.c: waiting on several futures at once
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "proc-enums.h"
#include "proc-future-private.h"
#include "proc-async-deadline-private.h"
#include "proc-completion-queue.h"
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
  GObject              parent_instance;

  ProcCompletionQueue *queue;
  guint                total;
  guint                yielded;
  gint64               deadline;   /* monotonic; -1: none */

  GTask               *async_task;
  ProcAsyncDeadline    async_wait;
};

G_DEFINE_FINAL_TYPE (ProcAsCompleted, proc_as_completed, G_TYPE_OBJECT)

static void
proc_as_completed_finalize (GObject *object)
{
  ProcAsCompleted *self = PROC_AS_COMPLETED (object);

  g_clear_object (&self->queue);

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
  self->queue = proc_completion_queue_new ();
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
  for (guint i = 0; i < unique->len; i++)
    proc_completion_queue_add (self->queue, g_ptr_array_index (unique, i));

  return self;
}

static void
set_timeout_error (ProcAsCompleted  *self,
                   GError          **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
               "%u (of %u) futures unfinished", self->total - self->yielded, self->total);
}

static gint64
remaining_usec (ProcAsCompleted *self)
{
  if (self->deadline < 0)
    return -1;
  return MAX (self->deadline - g_get_monotonic_time (), 0);
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
  ProcFuture *future;

  g_return_val_if_fail (PROC_IS_AS_COMPLETED (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (self->yielded == self->total)
    return NULL;

  future = proc_completion_queue_next (self->queue, remaining_usec (self));
  if (future == NULL)
    set_timeout_error (self, error);
  else
    self->yielded++;

  return future;
}

static void
async_queue_next_done (GObject      *object,
                       GAsyncResult *result,
                       gpointer      data)
{
  g_autoptr(ProcAsCompleted) self = data;
  GTask *task = self->async_task;
  gboolean user_cancelled = _proc_async_deadline_user_cancelled (&self->async_wait);
  GError *error = NULL;
  ProcFuture *future;

  future = proc_completion_queue_next_finish (self->queue, result, &error);
  _proc_async_deadline_clear (&self->async_wait);
  self->async_task = NULL;

  if (future != NULL)
    {
      self->yielded++;
      g_task_return_pointer (task, future, g_object_unref);
    }
  else
    {
      g_clear_error (&error);
      if (user_cancelled)
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "The wait was cancelled");
      else
        {
          set_timeout_error (self, &error);
          g_task_return_error (task, error);
        }
    }
  g_object_unref (task);
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

  g_return_if_fail (PROC_IS_AS_COMPLETED (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, proc_as_completed_next_async);

  if (self->async_task != NULL)
    {
      g_task_return_new_error (task, PROC_ERROR, PROC_ERROR_PENDING,
                               "Another next_async() is in progress on this iterator");
      g_object_unref (task);
      return;
    }
  if (self->yielded == self->total)
    {
      g_task_return_pointer (task, NULL, NULL);
      g_object_unref (task);
      return;
    }

  self->async_task = task;
  _proc_async_deadline_start (&self->async_wait, cancellable, self->deadline,
                              g_task_get_context (task));
  proc_completion_queue_next_async (self->queue, self->async_wait.cancellable,
                                    async_queue_next_done, g_object_ref (self));
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
