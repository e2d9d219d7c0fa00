/* demo.c: a quick tour of procexec
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shows, briefly: submit() and result(), map(), as_completed(), a worker
 * crash that fails only its own task while the pool goes on, a task's own
 * error, progress reports delivered in the main loop, interrupting a running
 * task, and shutdown().
 *
 * Like every example, the program is its own worker (the self-exec
 * pattern): main() registers the tasks, then proc_worker_main_if_worker()
 * turns the process into a worker when the executor started it as one.
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <procexec.h>

#define DEMO_ERROR (demo_error_quark ())
typedef enum {
  DEMO_ERROR_ZERO_DIVISION = 1,
} DemoError;

static G_DEFINE_QUARK (demo-error-quark, demo_error)

/* ---- the tasks: they run in the worker processes ---- */

/* square(x) = x * x */
static GVariant *
square (ProcTask  *task,
        GVariant  *args,
        gpointer   user_data,
        GError   **error)
{
  gint64 x;

  g_variant_get (args, "(x)", &x);
  return g_variant_new_int64 (x * x);
}

/* sleep(seconds): returns no value */
static GVariant *
sleep_task (ProcTask  *task,
            GVariant  *args,
            gpointer   user_data,
            GError   **error)
{
  double seconds;

  g_variant_get (args, "(d)", &seconds);
  g_usleep ((gulong) (seconds * G_USEC_PER_SEC));
  return NULL;
}

/* crash(): dies as a worker killed by the OOM killer would */
static GVariant *
crash (ProcTask  *task,
       GVariant  *args,
       gpointer   user_data,
       GError   **error)
{
  raise (SIGKILL);
  return NULL;
}

/* divide(a, b): fails with a GError of our own domain when b is 0 */
static GVariant *
divide (ProcTask  *task,
        GVariant  *args,
        gpointer   user_data,
        GError   **error)
{
  gint64 a, b;

  g_variant_get (args, "(xx)", &a, &b);
  if (b == 0)
    {
      g_set_error_literal (error, DEMO_ERROR, DEMO_ERROR_ZERO_DIVISION,
                           "division by zero");
      return NULL;
    }
  return g_variant_new_int64 (a / b);
}

/* long_job(steps): reports its progress after each step */
static GVariant *
long_job (ProcTask  *task,
          GVariant  *args,
          gpointer   user_data,
          GError   **error)
{
  gint32 steps;

  g_variant_get (args, "(i)", &steps);
  for (int i = 1; i <= steps; i++)
    {
      g_usleep (100 * 1000);
      proc_task_report_progress (task, (double) i / steps,
                                 g_variant_new_printf ("step %d of %d", i, steps));
    }
  return g_variant_new_printf ("%d steps done", steps);
}

/* spin(): works until it is interrupted (or for 30 s at most) */
static GVariant *
spin (ProcTask  *task,
      GVariant  *args,
      gpointer   user_data,
      GError   **error)
{
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < end)
    {
      if (g_cancellable_set_error_if_cancelled (proc_task_get_cancellable (task),
                                                error))
        return NULL;
      g_usleep (10 * 1000);
    }
  return g_variant_new_string ("never interrupted");
}

/* ---- the parent ---- */

static void
check (gboolean     ok,
       const char  *what,
       GError      *error)
{
  if (!ok)
    {
      g_printerr ("demo: %s failed: %s\n", what,
                  error != NULL ? error->message : "(no error)");
      exit (1);
    }
}

static void
title (const char *text)
{
  printf ("%s\n", text);
  fflush (stdout);
}

static ProcFuture *
submit (ProcExecutor *executor,
        const char   *task,
        GVariant     *args)
{
  g_autoptr(GError) error = NULL;
  ProcFuture *future;

  future = proc_executor_submit (executor, task, args, &error);
  check (future != NULL, "submit", error);
  return future;
}

static void
print_square (ProcExecutor *executor,
              gint64        x)
{
  g_autoptr(ProcFuture) future = submit (executor, "square",
                                         g_variant_new ("(x)", x));
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = proc_future_result (future, -1, &error);

  check (result != NULL, "square", error);
  printf ("   square(%" G_GINT64_FORMAT ") = %" G_GINT64_FORMAT
          ", computed by worker %d\n", x, g_variant_get_int64 (result),
          (int) proc_future_get_worker_pid (future));
  fflush (stdout);
}

static void
on_progress (ProcFuture *future,
             double      fraction,
             GVariant   *detail,
             gpointer    user_data)
{
  printf ("   progress %3.0f%%: %s\n", fraction * 100,
          detail != NULL && g_variant_is_of_type (detail, G_VARIANT_TYPE_STRING)
          ? g_variant_get_string (detail, NULL) : "");
  fflush (stdout);
}

static void
on_done (ProcFuture *future,
         gpointer    user_data)
{
  g_main_loop_quit (user_data);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(ProcWorker) worker = NULL;
  g_autoptr(ProcExecutor) executor = NULL;
  g_autoptr(GError) error = NULL;

  worker = proc_worker_new ();
  proc_worker_register_task (worker, "square", square, NULL, NULL);
  proc_worker_register_task (worker, "sleep", sleep_task, NULL, NULL);
  proc_worker_register_task (worker, "crash", crash, NULL, NULL);
  proc_worker_register_task (worker, "divide", divide, NULL, NULL);
  proc_worker_register_task (worker, "long_job", long_job, NULL, NULL);
  proc_worker_register_task (worker, "spin", spin, NULL, NULL);
  proc_worker_main_if_worker (worker);   /* never returns in a worker */

  /* Four workers at most: enough for the three sleeps of part 3 to run
   * side by side on any machine. */
  executor = proc_executor_new_self_exec (4);
  printf ("procexec %s demo: up to %u worker processes running this program "
          "(pid %d)\n", PROC_VERSION_S,
          proc_executor_get_max_workers (executor), (int) getpid ());

  /* 1. submit() returns a future at once; result() blocks until it is done. */
  title ("1. submit() and result()");
  print_square (executor, 7);

  /* 2. map() over an array of argument tuples; results come in input order. */
  title ("2. map(): square() over 0..9, in chunks of 3, results in input order");
  {
    g_autoptr(ProcMapIter) results = NULL;
    GVariantBuilder inputs;
    GVariant *result;

    g_variant_builder_init (&inputs, G_VARIANT_TYPE ("a(x)"));
    for (gint64 x = 0; x < 10; x++)
      g_variant_builder_add (&inputs, "(x)", x);
    results = proc_executor_map (executor, "square",
                                 g_variant_builder_end (&inputs),
                                 3, 0, -1, &error);
    check (results != NULL, "map", error);

    printf ("  ");
    while (proc_map_iter_next (results, &result, &error))
      {
        printf (" %" G_GINT64_FORMAT, g_variant_get_int64 (result));
        g_variant_unref (result);
      }
    printf ("\n");
    check (error == NULL, "map", error);
  }

  /* 3. as_completed() yields the futures in the order they finish. */
  title ("3. as_completed(): sleeps submitted as 0.6 s, 0.2 s, 0.4 s "
         "come back shortest first");
  {
    const double seconds[] = { 0.6, 0.2, 0.4 };
    ProcFuture *futures[G_N_ELEMENTS (seconds)];
    g_autoptr(ProcAsCompleted) completed = NULL;
    ProcFuture *future;

    for (guint i = 0; i < G_N_ELEMENTS (seconds); i++)
      futures[i] = submit (executor, "sleep", g_variant_new ("(d)", seconds[i]));

    completed = proc_as_completed_new (futures, G_N_ELEMENTS (futures), -1);
    while ((future = proc_as_completed_next (completed, &error)) != NULL)
      {
        for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
          if (futures[i] == future)
            printf ("   sleep(%.1f s) done\n", seconds[i]);
        fflush (stdout);
        g_object_unref (future);
      }
    check (error == NULL, "as_completed", error);

    for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
      g_object_unref (futures[i]);
  }

  /* 4. A worker that dies fails only the task it was running; the executor
   *    replaces it and the other tasks go on. */
  title ("4. a crash fails only its own task; the pool goes on");
  {
    g_autoptr(ProcFuture) future = submit (executor, "crash", NULL);
    g_autoptr(GVariant) result = proc_future_result (future, -1, &error);

    check (result == NULL, "crash (it returned a value)", NULL);
    if (g_error_matches (error, PROC_ERROR, PROC_ERROR_WORKER_DIED))
      printf ("   crash(): failed as expected, the worker died (%s)\n",
              error->message);
    else
      check (FALSE, "crash (unexpected error)", error);
    g_clear_error (&error);
    print_square (executor, 8);
  }

  /* 5. A task's GError arrives with its own domain, code and message. */
  title ("5. a task's own error reaches the caller unchanged");
  {
    g_autoptr(ProcFuture) future = submit (executor, "divide",
                                           g_variant_new ("(xx)",
                                                          (gint64) 1,
                                                          (gint64) 0));
    g_autoptr(GVariant) result = proc_future_result (future, -1, &error);

    check (result == NULL &&
           g_error_matches (error, DEMO_ERROR, DEMO_ERROR_ZERO_DIVISION),
           "divide", error);
    printf ("   divide(1, 0): %s (%s, code %d)\n", error->message,
            g_quark_to_string (error->domain), error->code);
    g_clear_error (&error);
  }

  /* 6. Progress reports, like every notification, arrive in the main
   *    context of the thread that submitted the task: run a main loop. */
  title ("6. progress reports, delivered in our main loop");
  {
    g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
    g_autoptr(ProcFuture) future = submit (executor, "long_job",
                                           g_variant_new ("(i)", 5));
    g_autoptr(GVariant) result = NULL;

    g_signal_connect (future, "progress", G_CALLBACK (on_progress), NULL);
    proc_future_add_done_callback (future, on_done,
                                   g_main_loop_ref (loop),
                                   (GDestroyNotify) g_main_loop_unref);
    g_main_loop_run (loop);

    result = proc_future_result (future, 0, &error);
    check (result != NULL, "long_job", error);
    printf ("   long_job() = \"%s\"\n", g_variant_get_string (result, NULL));
    fflush (stdout);
  }

  /* 7. interrupt() stops a task that is already running: its worker's
   *    GCancellable trips (and the worker is killed and replaced if the task
   *    ignores it). */
  title ("7. interrupt() a running task");
  {
    g_autoptr(ProcFuture) future = submit (executor, "spin", NULL);
    g_autoptr(GVariant) result = NULL;
    gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

    while (proc_future_get_state (future) == PROC_FUTURE_STATE_PENDING &&
           g_get_monotonic_time () < deadline)
      g_usleep (10 * 1000);
    proc_future_interrupt (future);

    result = proc_future_result (future, -1, &error);
    check (result == NULL &&
           g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED),
           "interrupt", error);
    printf ("   spin(): %s\n", error->message);
    g_clear_error (&error);
  }

  /* 8. shutdown (wait = TRUE): queued work runs, then the workers exit. */
  title ("8. shutdown(): let the queued work finish, then stop the workers");
  proc_executor_shutdown (executor, TRUE, FALSE);
  printf ("   %" G_GUINT64_FORMAT " tasks completed, %u workers left\n",
          proc_executor_get_n_completed (executor),
          proc_executor_get_n_workers (executor));

  printf ("Done.\n");
  fflush (stdout);

  return 0;
}
