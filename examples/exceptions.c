/* exceptions.c: a task that fails; the caller gets its error back.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Python original ("Python's concurrent.futures.ProcessPoolExecutor",
 * Handling exceptions, made runnable):
 *
 *     from concurrent.futures import ProcessPoolExecutor
 *
 *     def divide(a, b):
 *         return a / b
 *
 *     if __name__ == '__main__':
 *         with ProcessPoolExecutor() as executor:
 *             good = executor.submit(divide, 10, 2)
 *             bad = executor.submit(divide, 1, 0)
 *             print(good.result())
 *             try:
 *                 result = bad.result()
 *             except Exception as e:
 *                 print(f'Task failed: {e}')
 *             print(f'exception(): {bad.exception()}')
 *
 * It prints:
 *
 *     5.0
 *     Task failed: division by zero
 *     exception(): division by zero
 *
 * In C a task fails by returning NULL with a GError set. The error reaches
 * the caller with the same domain, code and message, so the caller can test
 * it with g_error_matches(), as Python code would use "except
 * ZeroDivisionError". Errors of the pool itself (a worker that died, a
 * timeout, an unknown task name...) are in the PROC_ERROR domain.
 */

#include <stdio.h>

#include <procexec.h>

/* An error domain of our own. The parent and the workers run this same
 * program, so the quark means the same on both sides. */
#define EXAMPLE_ERROR (example_error_quark ())
typedef enum {
  EXAMPLE_ERROR_ZERO_DIVISION = 1,
} ExampleError;

static G_DEFINE_QUARK (example-error-quark, example_error)

static GVariant *
divide (ProcTask  *task,
        GVariant  *args,
        gpointer   user_data,
        GError   **error)
{
  double a, b;

  g_variant_get (args, "(dd)", &a, &b);
  if (b == 0)
    {
      g_set_error_literal (error, EXAMPLE_ERROR, EXAMPLE_ERROR_ZERO_DIVISION,
                           "division by zero");
      return NULL;
    }
  return g_variant_new_double (a / b);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(ProcWorker) worker = NULL;
  g_autoptr(ProcExecutor) executor = NULL;
  g_autoptr(ProcFuture) good = NULL;
  g_autoptr(ProcFuture) bad = NULL;
  g_autoptr(ProcFuture) unknown = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) exception = NULL;

  worker = proc_worker_new ();
  proc_worker_register_task (worker, "divide", divide, NULL, NULL);
  proc_worker_main_if_worker (worker);

  executor = proc_executor_new_self_exec (0);

  good = proc_executor_submit (executor, "divide",
                               g_variant_new ("(dd)", 10.0, 2.0), &error);
  g_assert_no_error (error);
  bad = proc_executor_submit (executor, "divide",
                              g_variant_new ("(dd)", 1.0, 0.0), &error);
  g_assert_no_error (error);

  /* print(good.result()) */
  result = proc_future_result (good, -1, &error);
  g_assert_no_error (error);
  printf ("%.1f\n", g_variant_get_double (result));
  g_clear_pointer (&result, g_variant_unref);

  /* try: bad.result() except Exception as e: print(...) */
  result = proc_future_result (bad, -1, &error);
  if (result == NULL)
    {
      printf ("Task failed: %s\n", error->message);
      if (g_error_matches (error, EXAMPLE_ERROR, EXAMPLE_ERROR_ZERO_DIVISION))
        printf ("  (domain %s, code %d: our own error, as the task set it)\n",
                g_quark_to_string (error->domain), error->code);
      g_clear_error (&error);
    }

  /* print(f'exception(): {bad.exception()}'): the task's error as a value,
   * NULL when the task succeeded; @error is only for a failed wait. */
  exception = proc_future_exception (bad, -1, &error);
  g_assert_no_error (error);
  printf ("exception(): %s\n", exception != NULL ? exception->message : "None");

  /* Not in the Python original: an error of the pool itself. */
  unknown = proc_executor_submit (executor, "no-such-task", NULL, &error);
  if (unknown != NULL)
    result = proc_future_result (unknown, -1, &error);
  if (g_error_matches (error, PROC_ERROR, PROC_ERROR_UNKNOWN_TASK))
    printf ("Unknown task: %s\n", error->message);
  else
    printf ("Unexpected: %s\n", error != NULL ? error->message : "a result");
  g_clear_error (&error);
  fflush (stdout);

  proc_executor_shutdown (executor, TRUE, FALSE);

  return 0;
}
