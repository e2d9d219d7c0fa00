/* test-util.c: helpers shared by the procexec test programs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gobject/gvaluecollector.h>

#include "test-util.h"

void
test_init (int    *argc,
           char ***argv)
{
  struct rlimit no_core = { 0, 0 };

  g_test_init (argc, argv, NULL);

  /* Workers inherit this: the crash tests must not write core files. */
  setrlimit (RLIMIT_CORE, &no_core);

  if (g_getenv ("PROCEXEC_WORKER") == NULL)
    g_printerr ("warning: PROCEXEC_WORKER is not set; run the tests with meson test\n");
}

const char *
test_module_path (void)
{
  static char *path;

  if (path == NULL)
    {
      const char *env = g_getenv ("PROC_TEST_MODULE");

      if (env != NULL && env[0] != '\0')
        path = g_strdup (env);
      else
        path = g_test_build_filename (G_TEST_BUILT, "proc-test-tasks.so", NULL);
    }
  return path;
}

/* Creates an executor with the test module loaded, @max_workers workers and
 * the given extra properties (name/value pairs as for g_object_new(); note
 * that gint64 properties need gint64 values). */
ProcExecutor *
test_executor_new (guint       max_workers,
                   const char *first_property_name,
                   ...)
{
  GObjectClass *klass = g_type_class_ref (PROC_TYPE_EXECUTOR);
  const char *modules[] = { test_module_path (), NULL };
  GPtrArray *names = g_ptr_array_new ();
  GArray *values = g_array_new (FALSE, TRUE, sizeof (GValue));
  GValue value = G_VALUE_INIT;
  GParamSpec *pspec;
  const char *name;
  GObject *object;
  va_list ap;

  pspec = g_object_class_find_property (klass, "max-workers");
  g_assert_nonnull (pspec);
  g_value_init (&value, pspec->value_type);
  if (pspec->value_type == G_TYPE_INT)
    g_value_set_int (&value, (int) max_workers);
  else
    g_value_set_uint (&value, max_workers);
  g_ptr_array_add (names, (gpointer) "max-workers");
  g_array_append_val (values, value);

  pspec = g_object_class_find_property (klass, "modules");
  g_assert_nonnull (pspec);
  memset (&value, 0, sizeof value);
  g_value_init (&value, pspec->value_type);
  if (G_TYPE_FUNDAMENTAL (pspec->value_type) == G_TYPE_BOXED)
    g_value_set_boxed (&value, modules);
  else
    g_value_set_pointer (&value, modules);
  g_ptr_array_add (names, (gpointer) "modules");
  g_array_append_val (values, value);

  va_start (ap, first_property_name);
  for (name = first_property_name; name != NULL; name = va_arg (ap, const char *))
    {
      char *error = NULL;

      pspec = g_object_class_find_property (klass, name);
      if (pspec == NULL)
        g_error ("ProcExecutor has no property \"%s\"", name);
      memset (&value, 0, sizeof value);
      G_VALUE_COLLECT_INIT (&value, pspec->value_type, ap, 0, &error);
      if (error != NULL)
        g_error ("cannot collect the value of \"%s\": %s", name, error);
      g_ptr_array_add (names, (gpointer) name);
      g_array_append_val (values, value);
    }
  va_end (ap);

  object = g_object_new_with_properties (PROC_TYPE_EXECUTOR, names->len,
                                         (const char **) names->pdata,
                                         (const GValue *) values->data);

  for (guint i = 0; i < values->len; i++)
    g_value_unset (&g_array_index (values, GValue, i));
  g_array_unref (values);
  g_ptr_array_unref (names);
  g_type_class_unref (klass);

  g_assert_true (PROC_IS_EXECUTOR (object));
  return PROC_EXECUTOR (object);
}

/* Submits and asserts that the submission itself succeeded. */
ProcFuture *
test_submit (ProcExecutor *executor,
             const char   *task,
             GVariant     *args)
{
  GError *error = NULL;
  ProcFuture *future;

  future = proc_executor_submit (executor, task, args, &error);
  g_assert_no_error (error);
  g_assert_true (PROC_IS_FUTURE (future));
  return future;
}

/* The result of @future, which must succeed within TEST_TIMEOUT_USEC. */
GVariant *
test_result (ProcFuture *future)
{
  GError *error = NULL;
  GVariant *result;

  result = proc_future_result (future, TEST_TIMEOUT_USEC, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);
  return result;
}

/* The error of @future, which must fail (not time out) within
 * TEST_TIMEOUT_USEC. */
GError *
test_result_error (ProcFuture *future)
{
  GError *error = NULL;
  GVariant *result;

  result = proc_future_result (future, TEST_TIMEOUT_USEC, &error);
  if (result != NULL)
    {
      char *printed = g_variant_print (result, TRUE);
      g_error ("task %s succeeded with %s, expected a failure",
               proc_future_get_task_name (future), printed);
    }
  g_assert_nonnull (error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    g_error ("task %s did not finish within %d s",
             proc_future_get_task_name (future),
             (int) (TEST_TIMEOUT_USEC / G_USEC_PER_SEC));
  return error;
}

void
test_assert_finished (ProcFuture *future)
{
  g_assert_true (proc_future_is_done (future));
  g_assert_false (proc_future_is_running (future));
  g_assert_false (proc_future_is_cancelled (future));
  g_assert_cmpint (proc_future_get_state (future), ==, PROC_FUTURE_STATE_FINISHED);
}

/* Asserts that @value equals @expected (which may be floating, and is
 * consumed). */
void
test_assert_variant (GVariant *value,
                     GVariant *expected)
{
  g_variant_ref_sink (expected);
  g_assert_nonnull (value);
  if (!g_variant_equal (value, expected))
    {
      char *a = g_variant_print (value, TRUE);
      char *b = g_variant_print (expected, TRUE);

      g_error ("got %s, expected %s", a, b);
    }
  g_variant_unref (expected);
}

static gboolean
timeout_cb (gpointer data)
{
  gboolean *timed_out = data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates @context (NULL: the global default) until @cond is true or
 * @timeout_usec has passed; returns the final value of @cond. The caller
 * must own or be able to acquire @context. */
gboolean
test_iterate_until (GMainContext *context,
                    TestCondFunc  cond,
                    gpointer      data,
                    gint64        timeout_usec)
{
  gboolean timed_out = FALSE;
  GSource *timeout;

  if (context == NULL)
    context = g_main_context_default ();

  timeout = g_timeout_source_new ((guint) (timeout_usec / 1000));
  g_source_set_callback (timeout, timeout_cb, &timed_out, NULL);
  g_source_attach (timeout, context);

  while (!cond (data) && !timed_out)
    g_main_context_iteration (context, TRUE);

  g_source_destroy (timeout);
  g_source_unref (timeout);
  return cond (data);
}

static gboolean
flag_is_set (gpointer data)
{
  return *(gboolean *) data;
}

gboolean
test_iterate_until_flag (GMainContext *context,
                         gboolean     *flag)
{
  return test_iterate_until (context, flag_is_set, flag, TEST_TIMEOUT_USEC);
}

typedef struct {
  guint *counter;
  guint target;
} CountCond;

static gboolean
count_reached (gpointer data)
{
  CountCond *c = data;

  return *c->counter >= c->target;
}

gboolean
test_iterate_until_count (GMainContext *context,
                          guint        *counter,
                          guint         target)
{
  CountCond c = { counter, target };

  return test_iterate_until (context, count_reached, &c, TEST_TIMEOUT_USEC);
}

/* Dispatches whatever is ready in @context without blocking. */
void
test_drain_context (GMainContext *context)
{
  while (g_main_context_pending (context))
    g_main_context_iteration (context, FALSE);
}

typedef struct {
  gboolean started;
  GPid pid;
} StartedData;

static void
started_progress_cb (ProcFuture *future,
                     double      fraction,
                     GVariant   *detail,
                     gpointer    user_data)
{
  StartedData *data = user_data;
  gint32 pid;

  if (data->started)
    return;
  g_assert_nonnull (detail);
  g_assert_true (g_variant_is_of_type (detail, G_VARIANT_TYPE ("(i)")));
  g_variant_get (detail, "(i)", &pid);
  data->pid = pid;
  data->started = TRUE;
}

/* For a 'sleep_report' or 'hang' task (which report progress 0.0 with their
 * pid when they start): iterates the thread-default main context until the
 * task has started, and returns the pid of its worker. Must be called before
 * that context is iterated by anyone else after the submission. */
GPid
test_wait_started (ProcFuture *future)
{
  StartedData data = { FALSE, 0 };
  GMainContext *context = g_main_context_ref_thread_default ();
  gulong id;

  id = g_signal_connect (future, "progress", G_CALLBACK (started_progress_cb), &data);
  if (!test_iterate_until_flag (context, &data.started))
    g_error ("task %s did not start (no progress signal) within %d s; state %d",
             proc_future_get_task_name (future),
             (int) (TEST_TIMEOUT_USEC / G_USEC_PER_SEC),
             proc_future_get_state (future));
  g_signal_handler_disconnect (future, id);
  g_main_context_unref (context);

  g_assert_cmpint (data.pid, >, 0);
  g_assert_cmpint (data.pid, !=, getpid ());
  return data.pid;
}

static guint
count_open_fds_now (void)
{
  GDir *dir;
  guint n = 0;

  dir = g_dir_open ("/proc/self/fd", 0, NULL);
  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  g_dir_close (dir);
  g_assert_cmpuint (n, >, 0);
  return n - 1; /* the directory stream itself */
}

/* Polls @count until it is at most @n, or @timeout_usec passes; returns
 * its last value. */
static guint
wait_count_at_most (guint  (*count) (void),
                    guint    n,
                    gint64   timeout_usec)
{
  gint64 deadline = g_get_monotonic_time () + timeout_usec;
  guint value;

  while ((value = count ()) > n && g_get_monotonic_time () < deadline)
    g_usleep (2000); /* a polling interval, not a synchronisation */
  return value;
}

guint
test_count_open_fds (void)
{
  return count_open_fds_now ();
}

/* Polls until this process has at most @n open fds, or @timeout_usec
 * passes; returns the last count. GLib's worker thread tells an executor
 * that a worker exited, and only then closes what it kept for the child
 * (its pidfd, and the eventfd of a GTask that holds the executor's main
 * context): a count taken right after shutdown() can still see them. */
guint
test_wait_open_fds (guint  n,
                    gint64 timeout_usec)
{
  return wait_count_at_most (count_open_fds_now, n, timeout_usec);
}

/* Reads the ppid of process @name ("1234") from /proc/<pid>/stat; -1 if it
 * is gone. */
static gint64
read_ppid (const char *name)
{
  char *path = g_build_filename ("/proc", name, "stat", NULL);
  char *contents = NULL;
  const char *p;
  gint64 ppid = -1;

  if (g_file_get_contents (path, &contents, NULL, NULL))
    {
      /* pid (comm) state ppid ...; comm may hold spaces and parentheses */
      p = strrchr (contents, ')');
      if (p != NULL && p[1] == ' ' && p[2] != '\0' && p[3] == ' ')
        ppid = g_ascii_strtoll (p + 4, NULL, 10);
    }
  g_free (contents);
  g_free (path);
  return ppid;
}

/* Counts the processes whose parent is this process, zombies included. */
guint
test_count_children (void)
{
  GDir *dir;
  const char *name;
  guint n = 0;
  gint64 self = getpid ();

  dir = g_dir_open ("/proc", 0, NULL);
  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      if (!g_ascii_isdigit (name[0]))
        continue;
      if (read_ppid (name) == self)
        n++;
    }
  g_dir_close (dir);
  return n;
}

/* Whether @message holds @number as a whole decimal token (not as a part of
 * a longer number). */
gboolean
test_message_has_number (const char *message,
                         gint64      number)
{
  char *needle = g_strdup_printf ("%" G_GINT64_FORMAT, number);
  size_t len = strlen (needle);
  const char *p = message;
  gboolean found = FALSE;

  while ((p = strstr (p, needle)) != NULL)
    {
      gboolean left_ok = p == message || !g_ascii_isdigit (p[-1]);
      gboolean right_ok = !g_ascii_isdigit (p[len]);

      if (left_ok && right_ok)
        {
          found = TRUE;
          break;
        }
      p++;
    }
  g_free (needle);
  return found;
}

static gboolean
contains_nocase (const char *haystack,
                 const char *needle)
{
  char *h = g_ascii_strdown (haystack, -1);
  char *n = g_ascii_strdown (needle, -1);
  gboolean found = strstr (h, n) != NULL;

  g_free (h);
  g_free (n);
  return found;
}

/* Asserts that @error is PROC_ERROR_WORKER_DIED and that its message names
 * @pid and either the signal @signum (as a number, SIGNAME or its
 * description) or, when @signum is 0, the exit status @exit_status. */
void
test_assert_worker_died (const GError *error,
                         GPid          pid,
                         int           signum,
                         int           exit_status)
{
  g_assert_error (error, PROC_ERROR, PROC_ERROR_WORKER_DIED);
  g_assert_cmpint (pid, >, 0);

  if (!test_message_has_number (error->message, pid))
    g_error ("WORKER_DIED message \"%s\" does not name the pid %d",
             error->message, (int) pid);

  if (signum != 0)
    {
      const char *abbrev = sigabbrev_np (signum);
      char *signame = g_strdup_printf ("SIG%s", abbrev != NULL ? abbrev : "?");
      const char *descr = strsignal (signum);
      gboolean named = test_message_has_number (error->message, signum)
                       || contains_nocase (error->message, signame)
                       || (descr != NULL && contains_nocase (error->message, descr));

      if (!named)
        g_error ("WORKER_DIED message \"%s\" does not name the signal %d (%s)",
                 error->message, signum, signame);
      g_free (signame);
    }
  else
    {
      if (!test_message_has_number (error->message, exit_status))
        g_error ("WORKER_DIED message \"%s\" does not name the exit status %d",
                 error->message, exit_status);
    }
}

/* ---- stress tests and process counting ---------------------------------- */

/* Whether this build runs under AddressSanitizer (the tests, the library
 * and the worker are built alike). */
gboolean
test_under_asan (void)
{
#ifdef __SANITIZE_ADDRESS__
  return TRUE;
#else
  return FALSE;
#endif
}

/* How much slower things are expected to be in this build: ASan makes the
 * suite about 2 to 3 times slower. Deadlines that guard against hangs are
 * multiplied by it. */
gint64
test_slow_factor (void)
{
  return test_under_asan () ? 3 : 1;
}

/* $PROC_STRESS_SCALE (default 1.0) scales the sizes of the stress tests:
 * 0.1 for a quick run, 5 for a long one. */
double
test_stress_scale (void)
{
  const char *env = g_getenv ("PROC_STRESS_SCALE");
  double scale;

  if (env == NULL || *env == '\0')
    return 1.0;
  scale = g_ascii_strtod (env, NULL);
  if (!(scale > 0.0) || scale > 1000.0)
    g_error ("PROC_STRESS_SCALE=%s is not a number in (0, 1000]", env);
  return scale;
}

/* @n scaled by test_stress_scale(), at least 1. */
guint
test_stress_size (guint n)
{
  double scaled = n * test_stress_scale ();

  return scaled < 1.0 ? 1 : (guint) (scaled + 0.5);
}

/* $PROC_STRESS_SEED, or a random seed; either way printed, so that a
 * failing run can be repeated. */
guint32
test_stress_seed (void)
{
  const char *env = g_getenv ("PROC_STRESS_SEED");
  guint32 seed;

  if (env != NULL && *env != '\0')
    seed = (guint32) g_ascii_strtoull (env, NULL, 10);
  else
    seed = g_random_int ();
  g_test_message ("seed %" G_GUINT32_FORMAT " (PROC_STRESS_SEED=%" G_GUINT32_FORMAT
                  " repeats this run)", seed, seed);
  return seed;
}

/* The worker-argv for executors whose processes a test counts: %NULL (the
 * default worker) except under AddressSanitizer.
 *
 * Under AddressSanitizer, a worker that exits runs LeakSanitizer, which
 * ptrace-stops it; GLib 2.74's pidfd child watch then reports the exit
 * before the process is reaped (fixed in GLib 2.77.2), leaving a zombie
 * that the test would count. Workers whose processes are counted therefore
 * run without leak detection (as in test-resources.c); every other test
 * keeps it on in the workers. The other ASAN_OPTIONS are kept. */
const char * const *
test_counting_worker_argv (void)
{
  static char **argv;

  if (!test_under_asan ())
    return NULL;

  if (argv == NULL)
    {
      const char *worker = g_getenv ("PROCEXEC_WORKER");
      const char *options = g_getenv ("ASAN_OPTIONS");

      g_assert_nonnull (worker);
      argv = g_new0 (char *, 4);
      argv[0] = g_strdup ("/usr/bin/env");
      argv[1] = g_strdup_printf ("ASAN_OPTIONS=%s%sdetect_leaks=0:handle_segv=0",
                                 options != NULL ? options : "",
                                 options != NULL && *options != '\0' ? ":" : "");
      argv[2] = g_strdup (worker);
    }
  return (const char * const *) argv;
}

/* Reads the state letter (R, S, Z, ...) and the parent of process @pid
 * from /proc/<pid>/stat. FALSE if there is no such process. */
gboolean
test_read_proc_stat (GPid  pid,
                     char *state,
                     GPid *ppid)
{
  char path[64];
  char *contents = NULL;
  const char *p;
  gboolean ok = FALSE;

  g_snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return FALSE;

  /* pid (comm) state ppid ...; comm may hold spaces and parentheses */
  p = strrchr (contents, ')');
  if (p != NULL && p[1] == ' ' && p[2] != '\0' && p[3] == ' ')
    {
      if (state != NULL)
        *state = p[2];
      if (ppid != NULL)
        *ppid = (GPid) g_ascii_strtoll (p + 4, NULL, 10);
      ok = TRUE;
    }
  g_free (contents);
  return ok;
}

/* Whether @pid is a process (running or a zombie) whose parent is this
 * process. A pid that was reaped and reused by another process is not. */
gboolean
test_is_our_child (GPid pid)
{
  GPid ppid = 0;

  return test_read_proc_stat (pid, NULL, &ppid) && ppid == getpid ();
}

/* Polls /proc until @pid is no child of ours any more (it exited and was
 * reaped), or @timeout_usec passes; returns whether it is gone. */
gboolean
test_wait_not_our_child (GPid   pid,
                         gint64 timeout_usec)
{
  gint64 deadline = g_get_monotonic_time () + timeout_usec;

  while (test_is_our_child (pid))
    {
      if (g_get_monotonic_time () >= deadline)
        return FALSE;
      g_usleep (1000); /* a polling interval, not a synchronisation */
    }
  return TRUE;
}

/* Polls /proc until this process has at most @n children (zombies
 * included), or @timeout_usec passes; returns whether it got there. */
gboolean
test_wait_children (guint  n,
                    gint64 timeout_usec)
{
  return wait_count_at_most (test_count_children, n, timeout_usec) <= n;
}

struct _TestWatchdog {
  GMutex   lock;
  GCond    cond;
  gboolean stopped;
  gint64   deadline;
  char    *what;
  GThread *thread;
};

static gpointer
watchdog_thread (gpointer data)
{
  TestWatchdog *watchdog = data;

  g_mutex_lock (&watchdog->lock);
  while (!watchdog->stopped)
    if (!g_cond_wait_until (&watchdog->cond, &watchdog->lock, watchdog->deadline))
      {
        if (watchdog->stopped)
          break;
        /* Fails the test (aborts) with a message instead of hanging until
         * the harness kills it. */
        g_error ("watchdog: %s did not finish in time (a deadlock or a lost future?)",
                 watchdog->what);
      }
  g_mutex_unlock (&watchdog->lock);
  return NULL;
}

/* Starts a thread that fails the test if test_watchdog_stop() is not
 * called within @timeout_usec (multiplied by test_slow_factor()). */
TestWatchdog *
test_watchdog_start (gint64      timeout_usec,
                     const char *what)
{
  TestWatchdog *watchdog = g_new0 (TestWatchdog, 1);

  g_mutex_init (&watchdog->lock);
  g_cond_init (&watchdog->cond);
  watchdog->what = g_strdup (what);
  watchdog->deadline = g_get_monotonic_time () + timeout_usec * test_slow_factor ();
  watchdog->thread = g_thread_new ("test-watchdog", watchdog_thread, watchdog);
  return watchdog;
}

void
test_watchdog_stop (TestWatchdog *watchdog)
{
  g_mutex_lock (&watchdog->lock);
  watchdog->stopped = TRUE;
  g_cond_signal (&watchdog->cond);
  g_mutex_unlock (&watchdog->lock);
  g_thread_join (watchdog->thread);

  g_mutex_clear (&watchdog->lock);
  g_cond_clear (&watchdog->cond);
  g_free (watchdog->what);
  g_free (watchdog);
}

/* Submits @n echo tasks to @executor, of the numbers from @first on,
 * into @futures. */
void
test_submit_echoes (ProcExecutor *executor,
                    ProcFuture  **futures,
                    guint         n,
                    guint32       first)
{
  for (guint i = 0; i < n; i++)
    futures[i] = test_submit (executor, "echo", g_variant_new ("(u)", first + i));
}

/* Checks that the @n echoes test_submit_echoes() made succeed, and
 * releases them. */
void
test_assert_echoes (ProcFuture **futures,
                    guint        n,
                    guint32      first)
{
  for (guint i = 0; i < n; i++)
    {
      GVariant *result = test_result (futures[i]);

      test_assert_variant (result, g_variant_new ("(u)", first + i));
      g_variant_unref (result);
      g_object_unref (futures[i]);
    }
}

/* Submits @n echo tasks to @executor and checks that they all succeed. */
void
test_assert_pool_works (ProcExecutor *executor,
                        guint         n)
{
  ProcFuture **futures = g_new0 (ProcFuture *, n);

  test_submit_echoes (executor, futures, n, 0);
  test_assert_echoes (futures, n, 0);
  g_free (futures);
}
