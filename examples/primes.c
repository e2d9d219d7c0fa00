/* primes.c: a CPU-bound job split over the pool; compare one worker with one
 * per CPU.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: primes [LIMIT]   (default 5000000)
 *
 * The Python original:
 *
 *     import os, sys, time
 *     from concurrent.futures import ProcessPoolExecutor
 *
 *     def is_prime(n):
 *         if n < 2: return False
 *         if n % 2 == 0: return n == 2
 *         d = 3
 *         while d * d <= n:
 *             if n % d == 0: return False
 *             d += 2
 *         return True
 *
 *     def count_primes(start, end):
 *         return sum(1 for n in range(start, end) if is_prime(n))
 *
 *     def run(max_workers, limit, n_chunks=64):
 *         step = -(-limit // n_chunks)
 *         starts = range(0, limit, step)
 *         ends = [min(s + step, limit) for s in starts]
 *         t0 = time.perf_counter()
 *         with ProcessPoolExecutor(max_workers) as executor:
 *             total = sum(executor.map(count_primes, starts, ends))
 *         return total, time.perf_counter() - t0
 *
 *     if __name__ == '__main__':
 *         limit = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000_000
 *         n = os.cpu_count()
 *         total, t1 = run(1, limit)
 *         total_n, tn = run(n, limit)
 *         assert total == total_n
 *         print(f'{total} primes below {limit}')
 *         print(f'1 worker: {t1:.2f} s')
 *         print(f'{n} workers: {tn:.2f} s')
 *         print(f'speed-up: {t1 / tn:.2f}x')
 *
 * With the default limit it prints "348513 primes below 5000000", the two
 * times and a speed-up close to the number of CPUs.
 */

#include <stdio.h>
#include <stdlib.h>

#include <procexec.h>

#define N_CHUNKS 64

static gboolean
is_prime (guint64 n)
{
  if (n < 2)
    return FALSE;
  if (n % 2 == 0)
    return n == 2;
  for (guint64 d = 3; d * d <= n; d += 2)
    if (n % d == 0)
      return FALSE;
  return TRUE;
}

/* count_primes(start, end): the primes in [start, end) */
static GVariant *
count_primes (ProcTask  *task,
              GVariant  *args,
              gpointer   user_data,
              GError   **error)
{
  guint64 start, end, count = 0;

  g_variant_get (args, "(tt)", &start, &end);
  for (guint64 n = start; n < end; n++)
    {
      if (is_prime (n))
        count++;
      /* a long task should notice interrupt() now and then */
      if ((n & 0xffff) == 0 && proc_task_is_cancelled (task))
        break;
    }
  return g_variant_new_uint64 (count);
}

static gboolean
run (guint     max_workers,
     guint64   limit,
     guint64  *total,
     double   *seconds,
     GError  **error)
{
  g_autoptr(ProcExecutor) executor = NULL;
  g_autoptr(ProcMapIter) results = NULL;
  GVariantBuilder inputs;
  guint64 step = (limit + N_CHUNKS - 1) / N_CHUNKS;
  gint64 t0 = g_get_monotonic_time ();
  GVariant *result;

  g_variant_builder_init (&inputs, G_VARIANT_TYPE ("a(tt)"));
  for (guint64 start = 0; start < limit; start += step)
    g_variant_builder_add (&inputs, "(tt)", start, MIN (start + step, limit));

  /* The workers are spawned on demand, so their start-up is in the time,
   * as it is in Python's. */
  executor = proc_executor_new_self_exec (max_workers);
  results = proc_executor_map (executor, "count_primes",
                               g_variant_builder_end (&inputs),
                               1, 0, -1, error);
  if (results == NULL)
    return FALSE;

  *total = 0;
  while (proc_map_iter_next (results, &result, error))
    {
      *total += g_variant_get_uint64 (result);
      g_variant_unref (result);
    }
  if (*error != NULL)
    return FALSE;

  proc_executor_shutdown (executor, TRUE, FALSE);
  *seconds = (g_get_monotonic_time () - t0) / (double) G_USEC_PER_SEC;
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(ProcWorker) worker = NULL;
  g_autoptr(GError) error = NULL;
  guint64 limit = 5000000;
  guint64 total_1, total_n;
  double t1, tn;
  guint n = g_get_num_processors ();

  worker = proc_worker_new ();
  proc_worker_register_task (worker, "count_primes", count_primes, NULL, NULL);
  proc_worker_main_if_worker (worker);

  /* only the parent gets here: parse the command line */
  if (argc > 1 && !g_ascii_string_to_unsigned (argv[1], 10, 1, G_MAXUINT32,
                                               &limit, &error))
    {
      g_printerr ("usage: %s [LIMIT]: %s\n", argv[0], error->message);
      return 2;
    }

  if (!run (1, limit, &total_1, &t1, &error) ||
      !run (n, limit, &total_n, &tn, &error))
    {
      g_printerr ("failed: %s\n", error->message);
      return 1;
    }
  if (total_1 != total_n)
    {
      g_printerr ("the counts differ: %" G_GUINT64_FORMAT " and %"
                  G_GUINT64_FORMAT "\n", total_1, total_n);
      return 1;
    }

  printf ("%" G_GUINT64_FORMAT " primes below %" G_GUINT64_FORMAT "\n",
          total_1, limit);
  printf ("1 worker: %.2f s\n", t1);
  printf ("%u workers: %.2f s\n", n, tn);
  printf ("speed-up: %.2fx\n", t1 / tn);
  fflush (stdout);

  return 0;
}
