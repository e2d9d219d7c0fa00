/* lifecycle.c: the life cycle of a process pool: submit one task, wait for
 * its result, shut the pool down.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Python original (SuperFastPython, "demonstration with the process pool
 * life-cycle"):
 *
 *     from time import sleep
 *     from concurrent.futures import ProcessPoolExecutor
 *
 *     def task():
 *         sleep(1)
 *         print(f'Task running in a worker process')
 *         return 'All done'
 *
 *     if __name__ == '__main__':
 *         with ProcessPoolExecutor() as executor:
 *             future = executor.submit(task)
 *             print('Waiting for the new process to finish...')
 *             result = future.result()
 *             print(result)
 *
 * It prints:
 *
 *     Waiting for the new process to finish...
 *     Task running in a worker process
 *     All done
 */

#include <stdio.h>

#include <procexec.h>

/* Runs in a worker process. */
static GVariant *
task_func (ProcTask  *task,
           GVariant  *args,
           gpointer   user_data,
           GError   **error)
{
  /* block for a moment */
  g_usleep (1 * G_USEC_PER_SEC);
  /* display a message; the worker's stdout is ours */
  printf ("Task running in a worker process\n");
  fflush (stdout);
  /* return a message */
  return g_variant_new_string ("All done");
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(ProcWorker) worker = NULL;
  g_autoptr(ProcExecutor) executor = NULL;
  g_autoptr(ProcFuture) future = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;

  /* The self-exec pattern: the same program is also the worker. Register the
   * tasks first; when this process was started as a worker,
   * proc_worker_main_if_worker() serves tasks and never returns. */
  worker = proc_worker_new ();
  proc_worker_register_task (worker, "task", task_func, NULL, NULL);
  proc_worker_main_if_worker (worker);

  /* create the pool of worker processes (0: one per CPU) */
  executor = proc_executor_new_self_exec (0);

  /* execute a task in another process */
  future = proc_executor_submit (executor, "task", NULL, &error);
  if (future == NULL)
    {
      g_printerr ("submit failed: %s\n", error->message);
      return 1;
    }

  /* display a message */
  printf ("Waiting for the new process to finish...\n");
  fflush (stdout);

  /* wait for the task to finish and get the result (-1: no timeout) */
  result = proc_future_result (future, -1, &error);
  if (result == NULL)
    {
      g_printerr ("task failed: %s\n", error->message);
      return 1;
    }

  /* report the result */
  printf ("%s\n", g_variant_get_string (result, NULL));
  fflush (stdout);

  /* what Python's "with" block does on exit: wait for the workers to exit */
  proc_executor_shutdown (executor, TRUE, FALSE);

  return 0;
}
