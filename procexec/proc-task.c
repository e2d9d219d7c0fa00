/* proc-task.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>

#include "proc-worker-private.h"

/**
 * ProcTask:
 *
 * One task running in a worker process, as its task function sees it.
 *
 * A [callback@TaskFunc] receives a `ProcTask` to learn whether the parent
 * asked it to stop ([method@Task.get_cancellable]), to read the file
 * descriptors it was sent ([method@Task.get_fd_list]), to send file
 * descriptors back with its result ([method@Task.set_result_fd_list]) and
 * to report its progress ([method@Task.report_progress]).
 *
 * A `ProcTask` is only valid while its task function runs, in the thread
 * that runs it.
 */
struct _ProcTask {
  GObject       parent_instance;

  ProcWorker   *worker;       /* unowned: outlives every task it runs */
  guint64       id;
  char         *name;
  GCancellable *cancellable;
  GUnixFDList  *fd_list;
  GUnixFDList  *result_fd_list;
};

G_DEFINE_FINAL_TYPE (ProcTask, proc_task, G_TYPE_OBJECT)

static void
proc_task_finalize (GObject *object)
{
  ProcTask *self = PROC_TASK (object);

  g_free (self->name);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->fd_list);
  g_clear_object (&self->result_fd_list);

  G_OBJECT_CLASS (proc_task_parent_class)->finalize (object);
}

static void
proc_task_class_init (ProcTaskClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = proc_task_finalize;
}

static void
proc_task_init (ProcTask *self)
{
}

ProcTask *
_proc_task_new (ProcWorker   *worker,
                guint64       id,
                const char   *name,
                GCancellable *cancellable,
                GUnixFDList  *fd_list)
{
  ProcTask *self = g_object_new (PROC_TYPE_TASK, NULL);

  self->worker = worker;
  self->id = id;
  self->name = g_strdup (name);
  self->cancellable = g_object_ref (cancellable);
  self->fd_list = fd_list ? g_object_ref (fd_list) : NULL;

  return self;
}

/* Points a task object at another task: workers reuse one object for
 * every task nobody kept a reference to. */
void
_proc_task_reset (ProcTask     *self,
                  guint64       id,
                  const char   *name,
                  GCancellable *cancellable,
                  GUnixFDList  *fd_list)
{
  self->id = id;
  if (g_strcmp0 (self->name, name) != 0)
    {
      g_free (self->name);
      self->name = g_strdup (name);
    }
  g_set_object (&self->cancellable, cancellable);
  g_set_object (&self->fd_list, fd_list);
  g_clear_object (&self->result_fd_list);
}

/* The fds the task function gave its result, for the worker to send. */
GUnixFDList *
_proc_task_steal_result_fd_list (ProcTask *self)
{
  return g_steal_pointer (&self->result_fd_list);
}

/**
 * proc_task_get_name:
 * @self: a task
 *
 * The name the task was submitted under.
 *
 * Returns: (transfer none): the task's name
 */
const char *
proc_task_get_name (ProcTask *self)
{
  g_return_val_if_fail (PROC_IS_TASK (self), NULL);

  return self->name;
}

/**
 * proc_task_get_cancellable:
 * @self: a task
 *
 * The cancellable that trips when the parent interrupts the task, through
 * [method@Future.interrupt], the `GCancellable` given to
 * [method@Executor.submit_full], or a shutdown that stops running work.
 *
 * A task that honours it should return promptly with
 * `G_IO_ERROR_CANCELLED`; one that does not is killed after the executor's
 * [property@Executor:cancel-grace].
 *
 * Returns: (transfer none): the task's cancellable
 */
GCancellable *
proc_task_get_cancellable (ProcTask *self)
{
  g_return_val_if_fail (PROC_IS_TASK (self), NULL);

  return self->cancellable;
}

/**
 * proc_task_is_cancelled:
 * @self: a task
 *
 * Whether the parent asked this task to stop.
 *
 * Returns: %TRUE once the task's cancellable has tripped
 */
gboolean
proc_task_is_cancelled (ProcTask *self)
{
  g_return_val_if_fail (PROC_IS_TASK (self), FALSE);

  return g_cancellable_is_cancelled (self->cancellable);
}

/**
 * proc_task_get_fd_list:
 * @self: a task
 *
 * The file descriptors sent with the task, which handles (`h`) in its
 * arguments index.
 *
 * Returns: (transfer none) (nullable): the fd list, or %NULL when the task
 *   was sent none
 */
GUnixFDList *
proc_task_get_fd_list (ProcTask *self)
{
  g_return_val_if_fail (PROC_IS_TASK (self), NULL);

  return self->fd_list;
}

/**
 * proc_task_set_result_fd_list:
 * @self: a task
 * @fd_list: (nullable): file descriptors to send back with the result
 *
 * Sends @fd_list to the parent with the task's result, where
 * [method@Future.get_result_fd_list] returns them; handles (`h`) in the
 * result index this list. A later call replaces the list.
 *
 * The list goes only if the task function returns a result: with an
 * error, or from a task run by [method@Executor.map], it is dropped and
 * its fds closed. The worker keeps a reference until the result is sent.
 */
void
proc_task_set_result_fd_list (ProcTask    *self,
                              GUnixFDList *fd_list)
{
  g_return_if_fail (PROC_IS_TASK (self));
  g_return_if_fail (fd_list == NULL || G_IS_UNIX_FD_LIST (fd_list));

  g_set_object (&self->result_fd_list, fd_list);
}

/**
 * proc_task_report_progress:
 * @self: a task
 * @fraction: the fraction done, from 0.0 to 1.0
 * @detail: (nullable): a value to deliver with the report
 *
 * Reports progress to the parent, where the task's [class@Future] emits
 * [signal@Future::progress]. If @detail is floating it is consumed.
 *
 * A @fraction outside the range is clamped to it, and NaN (what 0.0 / 0.0
 * gives for a job with nothing to do) counts as 0.0: the report, and its
 * @detail, still reach the parent.
 */
void
proc_task_report_progress (ProcTask *self,
                           double    fraction,
                           GVariant *detail)
{
  g_return_if_fail (PROC_IS_TASK (self));

  if (detail != NULL)
    g_variant_ref_sink (detail);

  /* CLAMP() lets NaN through, and the parent refuses it. */
  _proc_worker_report_progress (self->worker, self->id,
                                isnan (fraction) ? 0.0 : CLAMP (fraction, 0.0, 1.0), detail);

  if (detail != NULL)
    g_variant_unref (detail);
}
