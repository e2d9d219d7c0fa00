/* as-completed.c: submit several tasks, then take them as they complete.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Python original ("Python's concurrent.futures module", Using
 * ProcessPoolExecutor):
 *
 *     import concurrent.futures
 *
 *     def task(n):
 *         print(f'Started task {n}')
 *         # Perform some CPU-intensive operation here
 *         print(f'Completed task {n}')
 *
 *     with concurrent.futures.ProcessPoolExecutor() as executor:
 *         tasks = [executor.submit(task, i) for i in range(5)]
 *
 *         for future in concurrent.futures.as_completed(tasks):
 *             # Wait for each task to complete
 *             pass
 *
 *     print('All tasks completed')
 *
 * It prints "Started task n" and "Completed task n" for n = 0..4 (the tasks
 * run in parallel, so their lines may interleave), then
 * "All tasks completed".
 */

#include <stdio.h>

#include <procexec.h>

#define N_TASKS 5

static GVariant *
task_func (ProcTask  *task,
           GVariant  *args,
           gpointer   user_data,
           GError   **error)
{
  gint32 n;

  g_variant_get (args, "(i)", &n);

  printf ("Started task %d\n", n);
  fflush (stdout);

  /* Perform some CPU-intensive operation here */
  g_usleep (50 * 1000 * (N_TASKS - n));

  printf ("Completed task %d\n", n);
  fflush (stdout);

  return NULL;  /* no value: the future's result is () */
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(ProcWorker) worker = NULL;
  g_autoptr(ProcExecutor) executor = NULL;
  g_autoptr(ProcAsCompleted) completed = NULL;
  g_autoptr(GPtrArray) tasks = NULL;
  g_autoptr(GError) error = NULL;
  ProcFuture *future;

  worker = proc_worker_new ();
  proc_worker_register_task (worker, "task", task_func, NULL, NULL);
  proc_worker_main_if_worker (worker);

  executor = proc_executor_new_self_exec (0);

  /* tasks = [executor.submit(task, i) for i in range(5)] */
  tasks = g_ptr_array_new_with_free_func (g_object_unref);
  for (int i = 0; i < N_TASKS; i++)
    {
      future = proc_executor_submit (executor, "task",
                                     g_variant_new ("(i)", i), &error);
      if (future == NULL)
        {
          g_printerr ("submit failed: %s\n", error->message);
          return 1;
        }
      g_ptr_array_add (tasks, future);
    }

  /* for future in concurrent.futures.as_completed(tasks): */
  completed = proc_as_completed_new ((ProcFuture **) tasks->pdata, tasks->len, -1);
  while ((future = proc_as_completed_next (completed, &error)) != NULL)
    {
      g_autoptr(GVariant) result = NULL;

      /* Wait for each task to complete: done already, so this does not
       * block; it reports the task's error, if any. */
      result = proc_future_result (future, 0, &error);
      g_object_unref (future);
      if (result == NULL)
        {
          g_printerr ("task failed: %s\n", error->message);
          return 1;
        }
    }
  if (error != NULL)
    {
      g_printerr ("as_completed failed: %s\n", error->message);
      return 1;
    }

  /* the end of the "with" block */
  proc_executor_shutdown (executor, TRUE, FALSE);

  printf ("All tasks completed\n");
  fflush (stdout);

  return 0;
}
