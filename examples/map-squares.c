/* map-squares.c: apply a task to every item of an input, in chunks, and get
 * the results back in input order.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Python original:
 *
 *     from concurrent.futures import ProcessPoolExecutor
 *
 *     def square(n):
 *         return n * n
 *
 *     if __name__ == '__main__':
 *         with ProcessPoolExecutor() as executor:
 *             for result in executor.map(square, range(10), chunksize=3):
 *                 print(result)
 *
 * It prints 0, 1, 4, 9, 16, 25, 36, 49, 64 and 81, one a line, in that order
 * whichever worker finishes first.
 */

#include <stdio.h>

#include <procexec.h>

static GVariant *
square (ProcTask  *task,
        GVariant  *args,
        gpointer   user_data,
        GError   **error)
{
  gint64 n;

  g_variant_get (args, "(x)", &n);
  return g_variant_new_int64 (n * n);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(ProcWorker) worker = NULL;
  g_autoptr(ProcExecutor) executor = NULL;
  g_autoptr(ProcMapIter) results = NULL;
  g_autoptr(GError) error = NULL;
  GVariantBuilder inputs;
  GVariant *result;

  worker = proc_worker_new ();
  proc_worker_register_task (worker, "square", square, NULL, NULL);
  proc_worker_main_if_worker (worker);

  executor = proc_executor_new_self_exec (0);

  /* range(10), as an array of argument tuples: [(0,), (1,), ... (9,)] */
  g_variant_builder_init (&inputs, G_VARIANT_TYPE ("a(x)"));
  for (gint64 n = 0; n < 10; n++)
    g_variant_builder_add (&inputs, "(x)", n);

  /* executor.map(square, range(10), chunksize=3): chunks of 3 items travel
   * to a worker together; buffersize 0 = at most twice max-workers chunks
   * in flight; -1 = no timeout. */
  results = proc_executor_map (executor, "square",
                               g_variant_builder_end (&inputs),
                               3, 0, -1, &error);
  if (results == NULL)
    {
      g_printerr ("map failed: %s\n", error->message);
      return 1;
    }

  /* for result in ...: print(result) */
  while (proc_map_iter_next (results, &result, &error))
    {
      printf ("%" G_GINT64_FORMAT "\n", g_variant_get_int64 (result));
      g_variant_unref (result);
    }
  if (error != NULL)
    {
      g_printerr ("a task failed: %s\n", error->message);
      return 1;
    }
  fflush (stdout);

  proc_executor_shutdown (executor, TRUE, FALSE);

  return 0;
}
