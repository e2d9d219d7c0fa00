/* bench-procexec.c: the procexec C API on the workloads of bench/README.md
 *
 * One workload per run, chosen by argv[1]; prints one JSON object per
 * repetition on stdout. The program is its own worker (self-exec).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <procexec.h>

#define WORKERS 2

/* ---- tasks ------------------------------------------------------------- */

static GVariant *
task_ident (ProcTask *task, GVariant *args, gpointer data, GError **error)
{
  return g_variant_ref (args);
}

static GVariant *
task_len (ProcTask *task, GVariant *args, gpointer data, GError **error)
{
  g_autoptr(GVariant) bytes = g_variant_get_child_value (args, 0);

  return g_variant_new ("(t)", (guint64) g_variant_get_size (bytes));
}

static GVariant *
task_bytes (ProcTask *task, GVariant *args, gpointer data, GError **error)
{
  guint64 size;
  guint8 *buf;

  g_variant_get (args, "(t)", &size);
  buf = g_malloc (size);
  memset (buf, 0x5a, size);
  return g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING, buf, size, TRUE, g_free, buf);
}

/* The same, from a shared buffer: the worker's pages cross uncopied. */
static GVariant *
task_bytes_shared (ProcTask *task, GVariant *args, gpointer data, GError **error)
{
  g_autoptr(ProcSharedBuffer) buf = NULL;
  g_autoptr(GBytes) bytes = NULL;
  guint64 size;

  g_variant_get (args, "(t)", &size);
  buf = proc_shared_buffer_new (size, error);
  if (buf == NULL)
    return NULL;
  memset (proc_shared_buffer_get_data (buf), 0x5a, size);
  bytes = proc_shared_buffer_free_to_bytes (g_steal_pointer (&buf), error);
  if (bytes == NULL)
    return NULL;
  return g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, bytes, TRUE);
}

/* About 0.5 s of arithmetic on this class of machine (the count is an
 * argument so that every peer does the same work). */
static GVariant *
task_spin (ProcTask *task, GVariant *args, gpointer data, GError **error)
{
  guint64 n, acc = 0;

  g_variant_get (args, "(t)", &n);
  for (guint64 i = 0; i < n; i++)
    acc = acc * 6364136223846793005ULL + i;
  return g_variant_new ("(t)", acc);
}

/* ---- helpers -------------------------------------------------------------- */

static double
now (void)
{
  return g_get_monotonic_time () / 1e6;
}

static ProcExecutor *
executor_new (guint workers)
{
  return proc_executor_new_self_exec (workers);
}

static GVariant *
result_or_die (ProcFuture *future)
{
  g_autoptr(GError) error = NULL;
  GVariant *v = proc_future_result (future, -1, &error);

  if (v == NULL)
    g_error ("task failed: %s", error->message);
  return v;
}

/* The argument tuple (i) and the int of a result (i), built and read
 * without parsing a format string each time, as a C program on a hot
 * path would. */
static GVariant *
int_args (gint32 i)
{
  GVariant *child = g_variant_new_int32 (i);

  return g_variant_new_tuple (&child, 1);
}

static gint32
int_of (GVariant *tuple)
{
  g_autoptr(GVariant) child = g_variant_get_child_value (tuple, 0);

  return g_variant_get_int32 (child);
}

/* Runs trivial tasks, two per worker at a time, until each of the
 * @workers workers has answered one: a task waits for the first worker
 * ready, so one batch may all run on a worker while another still starts,
 * and no workload is to be timed while one does (starting is (d)). */
static void
warm_up (ProcExecutor *executor, guint workers)
{
  g_autoptr(GHashTable) pids = g_hash_table_new (NULL, NULL);

  for (guint round = 0; g_hash_table_size (pids) < workers; round++)
    {
      g_autoptr(GPtrArray) fs = g_ptr_array_new_with_free_func (g_object_unref);

      if (round == 100000)
        g_error ("only %u of %u workers answered", g_hash_table_size (pids), workers);
      for (guint i = 0; i < 2 * workers; i++)
        g_ptr_array_add (fs, proc_executor_submit (executor, "ident", int_args (0), NULL));
      for (guint i = 0; i < fs->len; i++)
        {
          g_variant_unref (result_or_die (fs->pdata[i]));
          g_hash_table_add (pids, GINT_TO_POINTER (proc_future_get_worker_pid (fs->pdata[i])));
        }
    }
}

/* A "Name:   123 kB" field of a /proc/<pid> file, in bytes. */
static guint64
proc_field (GPid        pid,
            const char *file,
            const char *field)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/%s", (int) pid, file);
  g_autofree char *contents = NULL;
  const char *line;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return 0;
  line = strstr (contents, field);
  return line ? g_ascii_strtoull (line + strlen (field), NULL, 10) * 1024 : 0;
}

static guint64
rss_of (GPid pid)
{
  return proc_field (pid, "status", "VmRSS:");
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* ---- workloads -------------------------------------------------------------- */

static void
bench_throughput (guint n)
{
  g_autoptr(ProcExecutor) executor = executor_new (WORKERS);
  ProcFuture **fs = g_new (ProcFuture *, n);
  double t0, t1;

  warm_up (executor, WORKERS);
  t0 = now ();
  for (guint i = 0; i < n; i++)
    fs[i] = proc_executor_submit (executor, "ident", int_args ((gint32) i), NULL);
  for (guint i = 0; i < n; i++)
    {
      GVariant *v = result_or_die (fs[i]);
      gint32 x;

      x = int_of (v);
      if (x != (gint32) i)
        g_error ("wrong result %d for %u", x, i);
      g_variant_unref (v);
      g_object_unref (fs[i]);
    }
  t1 = now ();
  g_print ("{\"tasks_per_s\": %.1f}\n", n / (t1 - t0));
  g_free (fs);
  proc_executor_shutdown (executor, TRUE, FALSE);
}

static void
bench_map (guint n, guint chunksize)
{
  g_autoptr(ProcExecutor) executor = executor_new (WORKERS);
  g_autoptr(ProcMapIter) iter = NULL;
  GVariant *inputs;
  gint32 *ints;
  GVariant *v;
  guint got = 0;
  double t0, t1;

  warm_up (executor, WORKERS);
  t0 = now ();
  /* The inputs as a C program holds them: an array of int32, seen as the
   * argument tuples `a(i)` without a copy. */
  ints = g_new (gint32, n);
  for (guint i = 0; i < n; i++)
    ints[i] = (gint32) i;
  inputs = g_variant_new_from_data (G_VARIANT_TYPE ("a(i)"), ints, n * sizeof (gint32),
                                    FALSE, g_free, ints);
  iter = proc_executor_map (executor, "ident", inputs, chunksize, 0, -1, NULL);
  while (proc_map_iter_next (iter, &v, NULL))
    {
      gint32 x;

      x = int_of (v);
      if (x != (gint32) got)
        g_error ("map out of order: %d at %u", x, got);
      got++;
      g_variant_unref (v);
    }
  t1 = now ();
  if (got != n)
    g_error ("map returned %u of %u", got, n);
  g_print ("{\"items_per_s\": %.1f}\n", n / (t1 - t0));
  proc_executor_shutdown (executor, TRUE, FALSE);
}

static void
bench_latency (guint n)
{
  g_autoptr(ProcExecutor) executor = executor_new (WORKERS);
  double *lat = g_new (double, n);

  warm_up (executor, WORKERS);
  for (guint i = 0; i < n; i++)
    {
      double t0 = now ();
      g_autoptr(ProcFuture) f = proc_executor_submit (executor, "ident", int_args ((gint32) i), NULL);

      g_variant_unref (result_or_die (f));
      lat[i] = (now () - t0) * 1e6;
    }
  qsort (lat, n, sizeof (double), cmp_double);
  g_print ("{\"median_us\": %.2f, \"p99_us\": %.2f}\n", lat[n / 2], lat[(n * 99) / 100]);
  g_free (lat);
  proc_executor_shutdown (executor, TRUE, FALSE);
}

/* The floor: a blocking 64-byte ping-pong between two processes. */
static void
bench_pingpong (guint n)
{
  int sv[2];
  char buf[64] = { 0 };
  double *lat = g_new (double, n);
  pid_t pid;

  if (socketpair (AF_UNIX, SOCK_STREAM, 0, sv) < 0)
    g_error ("socketpair: %s", g_strerror (errno));
  pid = fork ();
  if (pid == 0)
    {
      close (sv[0]);
      while (read (sv[1], buf, sizeof buf) == sizeof buf)
        if (write (sv[1], buf, sizeof buf) != sizeof buf)
          break;
      _exit (0);
    }
  close (sv[1]);
  for (guint i = 0; i < n + 100; i++)
    {
      double t0 = now ();

      if (write (sv[0], buf, sizeof buf) != sizeof buf || read (sv[0], buf, sizeof buf) != sizeof buf)
        g_error ("ping-pong failed");
      if (i >= 100)
        lat[i - 100] = (now () - t0) * 1e6;
    }
  close (sv[0]);
  waitpid (pid, NULL, 0);
  qsort (lat, n, sizeof (double), cmp_double);
  g_print ("{\"median_us\": %.2f, \"p99_us\": %.2f}\n", lat[n / 2], lat[(n * 99) / 100]);
  g_free (lat);
}

static void
bench_start (void)
{
  double t0 = now ();
  g_autoptr(ProcExecutor) executor = executor_new (WORKERS);
  g_autoptr(ProcFuture) f = proc_executor_submit (executor, "ident", int_args (1), NULL);

  g_variant_unref (result_or_die (f));
  g_print ("{\"seconds\": %.6f}\n", now () - t0);
  proc_executor_shutdown (executor, TRUE, FALSE);
}

/* Seconds to send @array (taken) to the len task. */
static double
time_send (ProcExecutor *executor,
           GVariant     *array,
           guint64       size)
{
  double t0 = now ();
  g_autoptr(ProcFuture) f = proc_executor_submit (executor, "len", g_variant_new_tuple (&array, 1), NULL);
  g_autoptr(GVariant) v = result_or_die (f);
  guint64 len;

  g_variant_get (v, "(t)", &len);
  if (len != size)
    g_error ("len task saw %" G_GUINT64_FORMAT " bytes", len);
  return now () - t0;
}

/* Seconds to receive @size bytes from @task. */
static double
time_receive (ProcExecutor *executor,
              const char   *task,
              guint64       size)
{
  double t0 = now ();
  g_autoptr(ProcFuture) f = proc_executor_submit (executor, task, g_variant_new ("(t)", size), NULL);
  g_autoptr(GVariant) v = result_or_die (f);

  if (g_variant_get_size (v) != size)
    g_error ("%s task returned %" G_GSIZE_FORMAT " bytes", task, g_variant_get_size (v));
  return now () - t0;
}

/* Ordinary memory is copied once into a memfd on its way; a shared buffer
 * crosses as itself. As with the peers' bytes, the argument is made before
 * the clock starts; a result is made by the task, on the clock. */
static void
bench_payload (guint64 size)
{
  g_autoptr(ProcExecutor) executor = executor_new (WORKERS);
  g_autoptr(GBytes) shared = NULL;
  g_autoptr(GError) error = NULL;
  guint8 *buf = g_malloc (size);
  double t_in, t_out, t_in_shared, t_out_shared;

  memset (buf, 0xa5, size);
  shared = proc_shared_bytes_new (buf, size, &error);
  if (shared == NULL)
    g_error ("%s", error->message);
  warm_up (executor, WORKERS);

  t_in = time_send (executor, g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING, buf, size, TRUE, NULL, NULL), size);
  t_out = time_receive (executor, "bytes", size);
  t_in_shared = time_send (executor, g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, shared, TRUE), size);
  t_out_shared = time_receive (executor, "bytes_shared", size);

  g_print ("{\"send_mb_per_s\": %.1f, \"receive_mb_per_s\": %.1f, "
           "\"send_shared_mb_per_s\": %.1f, \"receive_shared_mb_per_s\": %.1f}\n",
           size / 1e6 / t_in, size / 1e6 / t_out, size / 1e6 / t_in_shared, size / 1e6 / t_out_shared);
  g_free (buf);
  proc_executor_shutdown (executor, TRUE, FALSE);
}

static void
bench_scaling (guint64 spin)
{
  double seconds[2];

  for (guint workers = 1; workers <= 2; workers++)
    {
      g_autoptr(ProcExecutor) executor = executor_new (workers);
      ProcFuture *fs[8];
      double t0;

      warm_up (executor, workers);
      t0 = now ();
      for (guint i = 0; i < 8; i++)
        fs[i] = proc_executor_submit (executor, "spin", g_variant_new ("(t)", spin), NULL);
      for (guint i = 0; i < 8; i++)
        {
          g_variant_unref (result_or_die (fs[i]));
          g_object_unref (fs[i]);
        }
      seconds[workers - 1] = now () - t0;
      proc_executor_shutdown (executor, TRUE, FALSE);
    }
  g_print ("{\"one_worker_s\": %.3f, \"two_workers_s\": %.3f, \"speedup\": %.3f}\n",
           seconds[0], seconds[1], seconds[0] / seconds[1]);
}

/* The RSS of bench/gio-floor.c, built beside this program. */
static guint64
gio_floor_rss (const char *self_exe)
{
  g_autofree char *dir = g_path_get_dirname (self_exe);
  g_autofree char *floor_exe = g_build_filename (dir, "gio-floor", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;
  guint64 rss;

  child = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                            floor_exe, NULL);
  if (child == NULL)
    g_error ("gio-floor: %s", error->message);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (child));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  if (line == NULL)
    g_error ("gio-floor did not start: %s", error ? error->message : "end of output");
  rss = rss_of (atoi (g_subprocess_get_identifier (child)));
  g_output_stream_close (g_subprocess_get_stdin_pipe (child), NULL, NULL);
  g_subprocess_wait (child, NULL, NULL);
  return rss;
}

static void
bench_memory (guint n, const char *self_exe)
{
  g_autoptr(ProcExecutor) executor = executor_new (1);
  g_autoptr(GPtrArray) fs = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(ProcFuture) blocker = NULL;
  guint64 before, after, worker_rss, worker_anon, worker_pss, floor_rss;
  GPid worker;

  warm_up (executor, 1);
  worker = 0;
  {
    g_autoptr(ProcFuture) f = proc_executor_submit (executor, "ident", int_args (0), NULL);
    g_variant_unref (result_or_die (f));
    worker = proc_future_get_worker_pid (f);
  }
  worker_rss = rss_of (worker);
  /* Most of it is shared library pages: say how much is the worker's own. */
  worker_anon = proc_field (worker, "status", "RssAnon:");
  worker_pss = proc_field (worker, "smaps_rollup", "Pss:");
  floor_rss = gio_floor_rss (self_exe);

  /* One long task holds the only worker, so the rest stay queued. */
  blocker = proc_executor_submit (executor, "spin", g_variant_new ("(t)", (guint64) 4000000000ULL), NULL);
  while (!proc_future_is_running (blocker))
    proc_future_wait (blocker, 1000);
  before = rss_of (getpid ());
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (fs, proc_executor_submit (executor, "ident", int_args ((gint32) i), NULL));
  after = rss_of (getpid ());
  g_print ("{\"bytes_per_pending_future\": %.1f, \"pending\": %u, \"idle_worker_rss_bytes\": %" G_GUINT64_FORMAT
           ", \"idle_worker_anon_rss_bytes\": %" G_GUINT64_FORMAT ", \"idle_worker_pss_bytes\": %" G_GUINT64_FORMAT
           ", \"gio_floor_rss_bytes\": %" G_GUINT64_FORMAT "}\n",
           (double) (after - before) / n, proc_executor_get_n_pending (executor), worker_rss,
           worker_anon, worker_pss, floor_rss);
  proc_executor_kill_workers (executor);
  proc_executor_shutdown (executor, TRUE, TRUE);
}

int
main (int argc, char **argv)
{
  g_autoptr(ProcWorker) worker = proc_worker_new ();
  const char *what;

  proc_worker_register_task (worker, "ident", task_ident, NULL, NULL);
  proc_worker_register_task (worker, "len", task_len, NULL, NULL);
  proc_worker_register_task (worker, "bytes", task_bytes, NULL, NULL);
  proc_worker_register_task (worker, "bytes_shared", task_bytes_shared, NULL, NULL);
  proc_worker_register_task (worker, "spin", task_spin, NULL, NULL);
  proc_worker_main_if_worker (worker);

  if (argc < 2)
    {
      g_printerr ("usage: %s throughput|map1|map100|latency|pingpong|start|payload|scaling|memory [N]\n", argv[0]);
      return 2;
    }
  what = argv[1];

#define ARG(def) (argc > 2 ? g_ascii_strtoull (argv[2], NULL, 10) : (def))
  if (g_str_equal (what, "throughput"))
    bench_throughput (ARG (20000));
  else if (g_str_equal (what, "map1"))
    bench_map (ARG (100000), 1);
  else if (g_str_equal (what, "map100"))
    bench_map (ARG (100000), 100);
  else if (g_str_equal (what, "latency"))
    bench_latency (ARG (2000));
  else if (g_str_equal (what, "pingpong"))
    bench_pingpong (ARG (2000));
  else if (g_str_equal (what, "start"))
    bench_start ();
  else if (g_str_equal (what, "payload"))
    bench_payload (ARG (16 * 1024 * 1024));
  else if (g_str_equal (what, "scaling"))
    bench_scaling (ARG (250000000));
  else if (g_str_equal (what, "memory"))
    bench_memory (ARG (100000), argv[0]);
  else
    {
      g_printerr ("unknown workload %s\n", what);
      return 2;
    }
  return 0;
}
