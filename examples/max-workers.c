/* max-workers.c: a pool of three workers; each task prints the process it
 * runs in.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Python original (Elliot Forbes, "Python ProcessPoolExecutor Tutorial"):
 *
 *     from concurrent.futures import ProcessPoolExecutor
 *     import os
 *
 *     def task():
 *         print("Executing our Task on Process {}".format(os.getpid()))
 *
 *     def main():
 *         executor = ProcessPoolExecutor(max_workers=3)
 *         task1 = executor.submit(task)
 *         task2 = executor.submit(task)
 *
 *     if __name__ == '__main__':
 *         main()
 *
 * It prints (the pids vary):
 *
 *     Executing our Task on Process 40365
 *     Executing our Task on Process 40366
 */

#include <stdio.h>
#include <unistd.h>

#include <procexec.h>

static GVariant *
task_func (ProcTask  *task,
           GVariant  *args,
           gpointer   user_data,
           GError   **error)
{
  printf ("Executing our Task on Process %d\n", (int) getpid ());
  fflush (stdout);
  return NULL;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(ProcWorker) worker = NULL;
  g_autoptr(ProcExecutor) executor = NULL;
  g_autoptr(ProcFuture) task1 = NULL;
  g_autoptr(ProcFuture) task2 = NULL;
  g_autoptr(GError) error = NULL;

  worker = proc_worker_new ();
  proc_worker_register_task (worker, "task", task_func, NULL, NULL);
  proc_worker_main_if_worker (worker);

  executor = proc_executor_new_self_exec (3);

  task1 = proc_executor_submit (executor, "task", NULL, &error);
  g_assert_no_error (error);
  task2 = proc_executor_submit (executor, "task", NULL, &error);
  g_assert_no_error (error);

  /* Python joins the pool when the interpreter exits; in C we say so: wait
   * for the queued tasks to run, then for the workers to exit. */
  proc_executor_shutdown (executor, TRUE, FALSE);

  /* Not in the Python original: the futures also know their worker. */
  g_printerr ("(parent %d: task1 ran on %d, task2 on %d)\n", (int) getpid (),
              (int) proc_future_get_worker_pid (task1),
              (int) proc_future_get_worker_pid (task2));

  return 0;
}
