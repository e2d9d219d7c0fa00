/* proc-executor.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "proc-executor-private.h"
#include "proc-map-iter-private.h"
#include "proc-pool-private.h"
#include "proc-protocol-private.h"

#define DEFAULT_CANCEL_GRACE_USEC (1 * G_USEC_PER_SEC)
#define MAX_TASK_NAME 256

/**
 * ProcExecutor:
 *
 * A pool of worker processes that runs named tasks and returns
 * [class@Future]s for their results — Python's
 * `concurrent.futures.ProcessPoolExecutor` for GLib.
 *
 * ```c
 * g_autoptr(ProcExecutor) executor = proc_executor_new (0);
 * g_autoptr(ProcFuture) future =
 *   proc_executor_submit (executor, "square", g_variant_new ("(i)", 7), &error);
 * g_autoptr(GVariant) result = proc_future_result (future, -1, &error);
 * ```
 *
 * Tasks run in worker processes started with `GSubprocess`: by default
 * `procexec-worker`, which loads the task modules named by
 * [property@Executor:modules]; or the program itself
 * ([ctor@Executor.new_self_exec]); or any program given as
 * [property@Executor:worker-argv] that serves a [class@Worker].
 *
 * Workers are started lazily, reused while idle, at most
 * [property@Executor:max-workers] at a time, and tasks are taken in the
 * order they were submitted. A worker that crashes or is killed fails only
 * the task it was running (with [error@Error.WORKER_DIED]) and is
 * replaced; the pool goes on.
 *
 * ## Threading
 *
 * Every method may be called from any thread. The executor does its I/O on
 * a private thread with its own `GMainContext`, so blocking calls such as
 * [method@Future.result] are safe anywhere, the main thread included. All
 * async methods invoke their callbacks on the thread-default main context
 * at the time of the call; `notify` for the counters is emitted in the
 * thread-default main context of the thread that created the executor.
 *
 * Dropping the last reference starts a shutdown that does not wait: work
 * already submitted still runs and its futures still resolve, then the
 * workers exit. No process outlives its work.
 */

typedef struct {
  gatomicrefcount  ref;
  GWeakRef         executor;
  GMainContext    *context;
} Notifier;

struct _ProcExecutor {
  GObject       parent_instance;

  ProcPool     *pool;
  Notifier     *notifier;

  guint         max_workers;
  char        **worker_argv;
  char        **modules;
  char         *initializer;
  GVariant     *initargs;
  guint         max_tasks_per_child;
  gint64        task_timeout;
  gint64        idle_timeout;
  gint64        cancel_grace;
  guint64       memory_limit;
  guint64       max_rss;

  /* Last values notified, in the owner context. */
  guint         last_n_workers;
  guint         last_n_pending;
  guint         last_n_running;
  guint64       last_n_completed;
  gboolean      last_broken;
};

enum {
  PROP_0,
  PROP_MAX_WORKERS,
  PROP_WORKER_ARGV,
  PROP_MODULES,
  PROP_INITIALIZER,
  PROP_INITARGS,
  PROP_MAX_TASKS_PER_CHILD,
  PROP_TASK_TIMEOUT,
  PROP_IDLE_TIMEOUT,
  PROP_CANCEL_GRACE,
  PROP_WORKER_MEMORY_LIMIT,
  PROP_WORKER_MAX_RSS,
  PROP_N_WORKERS,
  PROP_N_PENDING,
  PROP_N_RUNNING,
  PROP_N_COMPLETED,
  PROP_BROKEN,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (ProcExecutor, proc_executor, G_TYPE_OBJECT)

/* ---- counter notifications ---------------------------------------------- */

static Notifier *
notifier_ref (Notifier *notifier)
{
  g_atomic_ref_count_inc (&notifier->ref);
  return notifier;
}

static void
notifier_unref (gpointer data)
{
  Notifier *notifier = data;

  if (g_atomic_ref_count_dec (&notifier->ref))
    {
      g_weak_ref_clear (&notifier->executor);
      g_main_context_unref (notifier->context);
      g_free (notifier);
    }
}

static gboolean
emit_counters (gpointer data)
{
  Notifier *notifier = data;
  g_autoptr(ProcExecutor) self = g_weak_ref_get (&notifier->executor);
  guint n_workers, n_pending, n_running;
  guint64 n_completed;
  gboolean broken;

  if (self == NULL)
    return G_SOURCE_REMOVE;

  _proc_pool_clear_counters_dirty (self->pool);
  n_workers = _proc_pool_get_n_workers (self->pool);
  n_pending = _proc_pool_get_n_pending (self->pool);
  n_running = _proc_pool_get_n_running (self->pool);
  n_completed = _proc_pool_get_n_completed (self->pool);
  broken = _proc_pool_is_broken (self->pool);

  g_object_freeze_notify (G_OBJECT (self));
#define NOTIFY_IF_CHANGED(field, prop)                                  \
  if (self->last_##field != field)                                      \
    {                                                                   \
      self->last_##field = field;                                       \
      g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);     \
    }
  NOTIFY_IF_CHANGED (n_workers, PROP_N_WORKERS);
  NOTIFY_IF_CHANGED (n_pending, PROP_N_PENDING);
  NOTIFY_IF_CHANGED (n_running, PROP_N_RUNNING);
  NOTIFY_IF_CHANGED (n_completed, PROP_N_COMPLETED);
  NOTIFY_IF_CHANGED (broken, PROP_BROKEN);
#undef NOTIFY_IF_CHANGED
  g_object_thaw_notify (G_OBJECT (self));

  return G_SOURCE_REMOVE;
}

/* Called by the pool, from any thread, at most once until cleared. */
static void
schedule_emit_counters (gpointer data)
{
  Notifier *notifier = data;
  GSource *source = g_idle_source_new ();

  g_source_set_callback (source, emit_counters, notifier_ref (notifier), notifier_unref);
  g_source_set_static_name (source, "[procexec] counters");
  g_source_attach (source, notifier->context);
  g_source_unref (source);
}

/* ---- GObject -------------------------------------------------------------- */

static char **
default_worker_argv (void)
{
  const char *env = g_getenv ("PROCEXEC_WORKER");
  char *argv[2] = { NULL, NULL };

  argv[0] = (char *) ((env != NULL && *env != '\0') ? env : PROC_WORKER_INSTALLED_PATH);
  return g_strdupv (argv);
}

static void
proc_executor_constructed (GObject *object)
{
  ProcExecutor *self = PROC_EXECUTOR (object);
  ProcPoolConfig config = { 0 };

  G_OBJECT_CLASS (proc_executor_parent_class)->constructed (object);

  if (self->max_workers == 0)
    self->max_workers = MAX (g_get_num_processors (), 1);
  if (self->worker_argv == NULL || self->worker_argv[0] == NULL)
    {
      g_strfreev (self->worker_argv);
      self->worker_argv = default_worker_argv ();
    }

  self->notifier = g_new0 (Notifier, 1);
  g_atomic_ref_count_init (&self->notifier->ref);
  g_weak_ref_init (&self->notifier->executor, self);
  self->notifier->context = g_main_context_ref_thread_default ();

  config.worker_argv = self->worker_argv;
  config.modules = self->modules;
  config.initializer = self->initializer;
  config.initargs = self->initargs;
  config.max_workers = self->max_workers;
  config.max_tasks_per_child = self->max_tasks_per_child;
  config.task_timeout = self->task_timeout;
  config.idle_timeout = self->idle_timeout;
  config.cancel_grace = self->cancel_grace;
  config.memory_limit = self->memory_limit;
  config.max_rss = self->max_rss;

  self->pool = _proc_pool_new (&config, schedule_emit_counters,
                               notifier_ref (self->notifier), notifier_unref);

  /* Construction cannot fail, so a configuration that can never work
   * breaks the pool: every submit then says why. */
  if (self->initializer != NULL)
    {
      g_autoptr(GError) error = NULL;

      if (!_proc_check_task_name (self->initializer, &error))
        {
          g_prefix_error (&error, "the initializer: ");
          _proc_pool_set_broken (self->pool, error);
        }
    }
}

static void
proc_executor_dispose (GObject *object)
{
  ProcExecutor *self = PROC_EXECUTOR (object);

  /* Never blocks: submitted work runs to its end, then workers exit. */
  if (self->pool != NULL)
    {
      _proc_pool_detach_notify (self->pool);
      _proc_pool_shutdown (self->pool, FALSE, FALSE);
    }

  G_OBJECT_CLASS (proc_executor_parent_class)->dispose (object);
}

static void
proc_executor_finalize (GObject *object)
{
  ProcExecutor *self = PROC_EXECUTOR (object);

  g_clear_pointer (&self->pool, _proc_pool_unref);
  g_clear_pointer (&self->notifier, notifier_unref);
  g_strfreev (self->worker_argv);
  g_strfreev (self->modules);
  g_free (self->initializer);
  g_clear_pointer (&self->initargs, g_variant_unref);

  G_OBJECT_CLASS (proc_executor_parent_class)->finalize (object);
}

static void
proc_executor_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  ProcExecutor *self = PROC_EXECUTOR (object);

  switch (prop_id)
    {
    case PROP_MAX_WORKERS:
      g_value_set_uint (value, proc_executor_get_max_workers (self));
      break;
    case PROP_WORKER_ARGV:
      g_value_set_boxed (value, self->worker_argv);
      break;
    case PROP_MODULES:
      g_value_set_boxed (value, self->modules);
      break;
    case PROP_INITIALIZER:
      g_value_set_string (value, self->initializer);
      break;
    case PROP_INITARGS:
      g_value_set_variant (value, self->initargs);
      break;
    case PROP_MAX_TASKS_PER_CHILD:
      g_value_set_uint (value, self->max_tasks_per_child);
      break;
    case PROP_TASK_TIMEOUT:
      g_value_set_int64 (value, proc_executor_get_task_timeout (self));
      break;
    case PROP_IDLE_TIMEOUT:
      g_value_set_int64 (value, proc_executor_get_idle_timeout (self));
      break;
    case PROP_CANCEL_GRACE:
      g_value_set_int64 (value, proc_executor_get_cancel_grace (self));
      break;
    case PROP_WORKER_MEMORY_LIMIT:
      g_value_set_uint64 (value, self->memory_limit);
      break;
    case PROP_WORKER_MAX_RSS:
      g_value_set_uint64 (value, self->max_rss);
      break;
    case PROP_N_WORKERS:
      g_value_set_uint (value, proc_executor_get_n_workers (self));
      break;
    case PROP_N_PENDING:
      g_value_set_uint (value, proc_executor_get_n_pending (self));
      break;
    case PROP_N_RUNNING:
      g_value_set_uint (value, proc_executor_get_n_running (self));
      break;
    case PROP_N_COMPLETED:
      g_value_set_uint64 (value, proc_executor_get_n_completed (self));
      break;
    case PROP_BROKEN:
      g_value_set_boolean (value, proc_executor_is_broken (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
proc_executor_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  ProcExecutor *self = PROC_EXECUTOR (object);

  switch (prop_id)
    {
    case PROP_MAX_WORKERS:
      if (self->pool == NULL)
        self->max_workers = g_value_get_uint (value);
      else
        proc_executor_set_max_workers (self, g_value_get_uint (value));
      break;
    case PROP_WORKER_ARGV:
      self->worker_argv = g_value_dup_boxed (value);
      break;
    case PROP_MODULES:
      self->modules = g_value_dup_boxed (value);
      break;
    case PROP_INITIALIZER:
      self->initializer = g_value_dup_string (value);
      break;
    case PROP_INITARGS:
      self->initargs = g_value_dup_variant (value);
      break;
    case PROP_MAX_TASKS_PER_CHILD:
      self->max_tasks_per_child = g_value_get_uint (value);
      break;
    case PROP_WORKER_MEMORY_LIMIT:
      self->memory_limit = g_value_get_uint64 (value);
      break;
    case PROP_WORKER_MAX_RSS:
      self->max_rss = g_value_get_uint64 (value);
      break;
    case PROP_TASK_TIMEOUT:
      if (self->pool == NULL)
        self->task_timeout = g_value_get_int64 (value);
      else
        proc_executor_set_task_timeout (self, g_value_get_int64 (value));
      break;
    case PROP_IDLE_TIMEOUT:
      if (self->pool == NULL)
        self->idle_timeout = g_value_get_int64 (value);
      else
        proc_executor_set_idle_timeout (self, g_value_get_int64 (value));
      break;
    case PROP_CANCEL_GRACE:
      if (self->pool == NULL)
        self->cancel_grace = g_value_get_int64 (value);
      else
        proc_executor_set_cancel_grace (self, g_value_get_int64 (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
proc_executor_class_init (ProcExecutorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = proc_executor_constructed;
  object_class->dispose = proc_executor_dispose;
  object_class->finalize = proc_executor_finalize;
  object_class->get_property = proc_executor_get_property;
  object_class->set_property = proc_executor_set_property;

  /**
   * ProcExecutor:max-workers: (getter get_max_workers) (setter set_max_workers)
   *
   * The most worker processes alive at once; 0 at construction means the
   * number of processors. Raising it lets queued work start at once;
   * lowering it retires idle workers.
   */
  properties[PROP_MAX_WORKERS] =
    g_param_spec_uint ("max-workers", NULL, NULL, 0, 4096, 0,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                       G_PARAM_STATIC_STRINGS);

  /**
   * ProcExecutor:worker-argv: (getter get_worker_argv)
   *
   * The command line of a worker process. By default, `procexec-worker`
   * (the `PROCEXEC_WORKER` environment variable overrides its path, for
   * uninstalled use). A worker gets its channel as fd 3 and
   * `PROCEXEC_CHANNEL_FD=3` in its environment; stdin is `/dev/null`,
   * stdout and stderr are the parent's.
   */
  properties[PROP_WORKER_ARGV] =
    g_param_spec_boxed ("worker-argv", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * ProcExecutor:modules: (getter get_modules)
   *
   * Task modules each worker loads before its first task: paths of shared
   * objects, or names looked up in `$PROCEXEC_MODULE_PATH` then the
   * installed module directory. See [method@Worker.load_module].
   */
  properties[PROP_MODULES] =
    g_param_spec_boxed ("modules", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * ProcExecutor:initializer: (getter get_initializer)
   *
   * The name of a task each worker runs once, with
   * [property@Executor:initargs], before its first task. If it fails the
   * pool is broken: pending futures fail with [error@Error.BROKEN] carrying
   * its message, and later submits fail.
   */
  properties[PROP_INITIALIZER] =
    g_param_spec_string ("initializer", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * ProcExecutor:initargs: (getter get_initargs)
   *
   * The argument tuple of [property@Executor:initializer].
   */
  properties[PROP_INITARGS] =
    g_param_spec_variant ("initargs", NULL, NULL, G_VARIANT_TYPE_TUPLE, NULL,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * ProcExecutor:max-tasks-per-child: (getter get_max_tasks_per_child)
   *
   * How many tasks a worker runs before it is replaced by a fresh one; 0
   * means no limit.
   */
  properties[PROP_MAX_TASKS_PER_CHILD] =
    g_param_spec_uint ("max-tasks-per-child", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * ProcExecutor:task-timeout: (getter get_task_timeout) (setter set_task_timeout)
   *
   * The default timeout of a task, in microseconds, counted from when it
   * starts to run; 0 means none. A task that runs longer fails with
   * [error@Error.TASK_TIMEOUT] and its worker is killed and replaced.
   */
  properties[PROP_TASK_TIMEOUT] =
    g_param_spec_int64 ("task-timeout", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS);

  /**
   * ProcExecutor:idle-timeout: (getter get_idle_timeout) (setter set_idle_timeout)
   *
   * How long, in microseconds, a worker may stay idle before it exits; 0
   * keeps idle workers forever (as Python does).
   */
  properties[PROP_IDLE_TIMEOUT] =
    g_param_spec_int64 ("idle-timeout", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS);

  /**
   * ProcExecutor:cancel-grace: (getter get_cancel_grace) (setter set_cancel_grace)
   *
   * How long, in microseconds, an interrupted task may take to return
   * after its cancellable trips, before its worker is killed.
   *
   * It is also how long a worker that was asked to exit (at shutdown,
   * after [property@Executor:max-tasks-per-child] tasks, above
   * [property@Executor:worker-max-rss], when idle for
   * [property@Executor:idle-timeout]) may take to end after it closed its
   * channel: its atexit handlers or its language's finalization run
   * then. [method@Executor.shutdown] waits for it.
   */
  properties[PROP_CANCEL_GRACE] =
    g_param_spec_int64 ("cancel-grace", NULL, NULL, 0, G_MAXINT64, DEFAULT_CANCEL_GRACE_USEC,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS);

  /**
   * ProcExecutor:worker-memory-limit:
   *
   * The address-space limit of each worker process (`RLIMIT_AS`), in
   * bytes; 0 means none. A task that allocates past it fails to allocate,
   * which usually ends its worker: the task fails with
   * [error@Error.WORKER_DIED] and the worker is replaced. Incompatible with
   * AddressSanitizer, which reserves terabytes of address space.
   */
  properties[PROP_WORKER_MEMORY_LIMIT] =
    g_param_spec_uint64 ("worker-memory-limit", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * ProcExecutor:worker-max-rss:
   *
   * A resident-memory threshold, in bytes: a worker found above it after a
   * task is replaced by a fresh one once it has answered what it was sent,
   * so that code that leaks cannot grow a worker without bound. 0 means
   * never.
   */
  properties[PROP_WORKER_MAX_RSS] =
    g_param_spec_uint64 ("worker-max-rss", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * ProcExecutor:n-workers: (getter get_n_workers)
   *
   * Worker processes alive now.
   */
  properties[PROP_N_WORKERS] =
    g_param_spec_uint ("n-workers", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * ProcExecutor:n-pending: (getter get_n_pending)
   *
   * Tasks submitted and not yet handed to a worker.
   */
  properties[PROP_N_PENDING] =
    g_param_spec_uint ("n-pending", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * ProcExecutor:n-running: (getter get_n_running)
   *
   * Tasks handed to a worker and not done.
   */
  properties[PROP_N_RUNNING] =
    g_param_spec_uint ("n-running", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * ProcExecutor:n-completed: (getter get_n_completed)
   *
   * Tasks finished, with a result or an error, since the executor was
   * created.
   */
  properties[PROP_N_COMPLETED] =
    g_param_spec_uint64 ("n-completed", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * ProcExecutor:broken: (getter is_broken)
   *
   * Whether the pool is broken and refuses work: its initializer failed,
   * or new workers kept dying before they were ready.
   */
  properties[PROP_BROKEN] =
    g_param_spec_boolean ("broken", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
proc_executor_init (ProcExecutor *self)
{
  self->cancel_grace = DEFAULT_CANCEL_GRACE_USEC;
}

/**
 * proc_executor_new:
 * @max_workers: the most worker processes at once; 0 means the number of
 *   processors
 *
 * Creates an executor whose workers are `procexec-worker`. Give it task
 * modules with `g_object_new()` and [property@Executor:modules], or use
 * [ctor@Executor.new_self_exec]. No process starts before the first task.
 *
 * Returns: (transfer full): a new executor
 */
ProcExecutor *
proc_executor_new (guint max_workers)
{
  return g_object_new (PROC_TYPE_EXECUTOR, "max-workers", max_workers, NULL);
}

/**
 * proc_executor_new_self_exec:
 * @max_workers: the most worker processes at once; 0 means the number of
 *   processors
 *
 * Creates an executor whose workers are this very program, started again
 * (Python's "spawn" start method). The program must register its tasks
 * and call [method@Worker.main_if_worker] at the start of `main()`.
 *
 * Returns: (transfer full): a new executor
 */
ProcExecutor *
proc_executor_new_self_exec (guint max_workers)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  const char *argv[] = { exe ? exe : "/proc/self/exe", NULL };

  return g_object_new (PROC_TYPE_EXECUTOR,
                       "max-workers", max_workers,
                       "worker-argv", argv,
                       NULL);
}

/**
 * proc_executor_get_max_workers:
 * @self: an executor
 *
 * The most worker processes alive at once, [property@Executor:max-workers].
 *
 * Returns: the most worker processes alive at once
 */
guint
proc_executor_get_max_workers (ProcExecutor *self)
{
  g_return_val_if_fail (PROC_IS_EXECUTOR (self), 0);

  return g_atomic_int_get (&self->max_workers);
}

/**
 * proc_executor_set_max_workers:
 * @self: an executor
 * @max_workers: the most worker processes alive at once, at least 1
 *
 * Changes [property@Executor:max-workers].
 */
void
proc_executor_set_max_workers (ProcExecutor *self,
                               guint         max_workers)
{
  g_return_if_fail (PROC_IS_EXECUTOR (self));
  g_return_if_fail (max_workers > 0);

  if ((guint) g_atomic_int_exchange (&self->max_workers, max_workers) == max_workers)
    return;
  _proc_pool_set_max_workers (self->pool, max_workers);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_WORKERS]);
}

/**
 * proc_executor_get_worker_argv:
 * @self: an executor
 *
 * The command line of a worker process, [property@Executor:worker-argv].
 *
 * Returns: (transfer none) (array zero-terminated=1): the worker command line
 */
const char * const *
proc_executor_get_worker_argv (ProcExecutor *self)
{
  g_return_val_if_fail (PROC_IS_EXECUTOR (self), NULL);

  return (const char * const *) self->worker_argv;
}

/**
 * proc_executor_get_modules:
 * @self: an executor
 *
 * The task modules each worker loads, [property@Executor:modules].
 *
 * Returns: (transfer none) (array zero-terminated=1) (nullable): the task
 *   modules workers load
 */
const char * const *
proc_executor_get_modules (ProcExecutor *self)
{
  g_return_val_if_fail (PROC_IS_EXECUTOR (self), NULL);

  return (const char * const *) self->modules;
}

/**
 * proc_executor_get_initializer:
 * @self: an executor
 *
 * The task each worker runs before its first one, [property@Executor:initializer].
 *
 * Returns: (nullable): the name of the initializer task
 */
const char *
proc_executor_get_initializer (ProcExecutor *self)
{
  g_return_val_if_fail (PROC_IS_EXECUTOR (self), NULL);

  return self->initializer;
}

/**
 * proc_executor_get_initargs:
 * @self: an executor
 *
 * The arguments of the initializer, [property@Executor:initargs].
 *
 * Returns: (transfer none) (nullable): the initializer's arguments
 */
GVariant *
proc_executor_get_initargs (ProcExecutor *self)
{
  g_return_val_if_fail (PROC_IS_EXECUTOR (self), NULL);

  return self->initargs;
}

/**
 * proc_executor_get_max_tasks_per_child:
 * @self: an executor
 *
 * How many tasks a worker runs before it is replaced, [property@Executor:max-tasks-per-child].
 *
 * Returns: the number of tasks after which a worker is replaced, or 0
 */
guint
proc_executor_get_max_tasks_per_child (ProcExecutor *self)
{
  g_return_val_if_fail (PROC_IS_EXECUTOR (self), 0);

  return self->max_tasks_per_child;
}

/**
 * proc_executor_get_task_timeout:
 * @self: an executor
 *
 * The default timeout of a task, [property@Executor:task-timeout].
 *
 * Returns: the default task timeout in microseconds, or 0 for none
 */
gint64
proc_executor_get_task_timeout (ProcExecutor *self)
{
  g_return_val_if_fail (PROC_IS_EXECUTOR (self), 0);

  return self->pool ? _proc_pool_get_task_timeout (self->pool) : self->task_timeout;
}

/**
 * proc_executor_set_task_timeout:
 * @self: an executor
 * @timeout_usec: the default task timeout in microseconds, or 0 for none
 *
 * Changes [property@Executor:task-timeout] for tasks submitted from now on.
 */
void
proc_executor_set_task_timeout (ProcExecutor *self,
                                gint64        timeout_usec)
{
  g_return_if_fail (PROC_IS_EXECUTOR (self));
  g_return_if_fail (timeout_usec >= 0);

  self->task_timeout = timeout_usec;
  _proc_pool_set_task_timeout (self->pool, timeout_usec);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TASK_TIMEOUT]);
}

/**
 * proc_executor_get_idle_timeout:
 * @self: an executor
 *
 * How long a worker may stay idle, [property@Executor:idle-timeout].
 *
 * Returns: the idle time after which a worker exits, in microseconds, or 0
 */
gint64
proc_executor_get_idle_timeout (ProcExecutor *self)
{
  g_return_val_if_fail (PROC_IS_EXECUTOR (self), 0);

  return self->idle_timeout;
}

/**
 * proc_executor_set_idle_timeout:
 * @self: an executor
 * @timeout_usec: the idle time after which a worker exits, in
 *   microseconds, or 0 to keep idle workers
 *
 * Changes [property@Executor:idle-timeout] for workers that become idle
 * from now on.
 */
void
proc_executor_set_idle_timeout (ProcExecutor *self,
                                gint64        timeout_usec)
{
  g_return_if_fail (PROC_IS_EXECUTOR (self));
  g_return_if_fail (timeout_usec >= 0);

  self->idle_timeout = timeout_usec;
  _proc_pool_set_idle_timeout (self->pool, timeout_usec);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IDLE_TIMEOUT]);
}

/**
 * proc_executor_get_cancel_grace:
 * @self: an executor
 *
 * How long an interrupted task may take to stop, [property@Executor:cancel-grace].
 *
 * Returns: how long an interrupted task may take to stop, in microseconds
 */
gint64
proc_executor_get_cancel_grace (ProcExecutor *self)
{
  g_return_val_if_fail (PROC_IS_EXECUTOR (self), 0);

  return self->cancel_grace;
}

/**
 * proc_executor_set_cancel_grace:
 * @self: an executor
 * @grace_usec: how long an interrupted task may take to stop, in
 *   microseconds, before its worker is killed
 *
 * Changes [property@Executor:cancel-grace].
 */
void
proc_executor_set_cancel_grace (ProcExecutor *self,
                                gint64        grace_usec)
{
  g_return_if_fail (PROC_IS_EXECUTOR (self));
  g_return_if_fail (grace_usec >= 0);

  self->cancel_grace = grace_usec;
  _proc_pool_set_cancel_grace (self->pool, grace_usec);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CANCEL_GRACE]);
}

/**
 * proc_executor_get_n_workers:
 * @self: an executor
 *
 * Worker processes alive now, [property@Executor:n-workers].
 *
 * Returns: the number of worker processes alive
 */
guint
proc_executor_get_n_workers (ProcExecutor *self)
{
  g_return_val_if_fail (PROC_IS_EXECUTOR (self), 0);

  return _proc_pool_get_n_workers (self->pool);
}

/**
 * proc_executor_get_n_pending:
 * @self: an executor
 *
 * Tasks not yet handed to a worker, [property@Executor:n-pending].
 *
 * Returns: the number of tasks not yet handed to a worker
 */
guint
proc_executor_get_n_pending (ProcExecutor *self)
{
  g_return_val_if_fail (PROC_IS_EXECUTOR (self), 0);

  return _proc_pool_get_n_pending (self->pool);
}

/**
 * proc_executor_get_n_running:
 * @self: an executor
 *
 * Tasks handed to a worker and not done, [property@Executor:n-running].
 *
 * Returns: the number of tasks handed to workers and not done
 */
guint
proc_executor_get_n_running (ProcExecutor *self)
{
  g_return_val_if_fail (PROC_IS_EXECUTOR (self), 0);

  return _proc_pool_get_n_running (self->pool);
}

/**
 * proc_executor_get_n_completed:
 * @self: an executor
 *
 * Tasks finished since the executor was created, [property@Executor:n-completed].
 *
 * Returns: the number of tasks finished since the executor was created
 */
guint64
proc_executor_get_n_completed (ProcExecutor *self)
{
  g_return_val_if_fail (PROC_IS_EXECUTOR (self), 0);

  return _proc_pool_get_n_completed (self->pool);
}

/**
 * proc_executor_is_broken:
 * @self: an executor
 *
 * Whether the pool is broken and refuses work.
 *
 * Returns: whether the pool is broken, see [property@Executor:broken]
 */
gboolean
proc_executor_is_broken (ProcExecutor *self)
{
  g_return_val_if_fail (PROC_IS_EXECUTOR (self), FALSE);

  return _proc_pool_is_broken (self->pool);
}

/**
 * proc_executor_is_shutdown:
 * @self: an executor
 *
 * Whether [method@Executor.shutdown] (or a variant) was called.
 *
 * Returns: whether [method@Executor.shutdown] was called
 */
gboolean
proc_executor_is_shutdown (ProcExecutor *self)
{
  g_return_val_if_fail (PROC_IS_EXECUTOR (self), FALSE);

  return _proc_pool_is_shutdown (self->pool);
}

/* ---- submitting ----------------------------------------------------------- */

gboolean
_proc_check_task_name (const char  *task,
                       GError     **error)
{
  gsize len;

  if (task == NULL)
    {
      g_set_error_literal (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT,
                           "The task name must not be NULL");
      return FALSE;
    }
  len = strnlen (task, MAX_TASK_NAME + 1);
  if (len == 0 || len > MAX_TASK_NAME || !g_utf8_validate (task, len, NULL))
    {
      g_set_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT,
                   "Invalid task name (it must be 1 to %d bytes of UTF-8)", MAX_TASK_NAME);
      return FALSE;
    }
  for (gsize i = 0; i < len; i++)
    if (g_ascii_iscntrl (task[i]))
      {
        g_set_error_literal (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT,
                             "Invalid task name (it contains a control character)");
        return FALSE;
      }
  return TRUE;
}

/**
 * proc_executor_submit:
 * @self: an executor
 * @task: the name of a task registered in the workers
 * @args: (nullable): the task's argument tuple; %NULL means `()`; a
 *   floating reference is consumed
 * @error: return location for an error
 *
 * Schedules @task to run in a worker with @args and returns its future at
 * once, as Python's `submit()`.
 *
 * It fails only for bad input ([error@Error.INVALID_ARGUMENT]: no or an
 * invalid task name, arguments that are not a tuple), after
 * [method@Executor.shutdown] ([error@Error.SHUTDOWN]), or when the pool is
 * broken ([error@Error.BROKEN]). Everything that happens later — an unknown
 * task, a crash, a timeout — is reported by the future.
 *
 * Returns: (transfer full): the task's future, or %NULL on error
 */
ProcFuture *
proc_executor_submit (ProcExecutor  *self,
                      const char    *task,
                      GVariant      *args,
                      GError       **error)
{
  return proc_executor_submit_full (self, task, args, NULL, -1, NULL, error);
}

static ProcFuture *
submit_internal (ProcExecutor  *self,
                 const char    *task,
                 GVariant      *args,
                 GUnixFDList   *fd_list,
                 gint64         timeout_usec,
                 GCancellable  *cancellable,
                 gboolean       is_chunk,
                 GError       **error)
{
  g_autoptr(GVariant) owned_args = NULL;
  g_autoptr(ProcFuture) future = NULL;

  if (args != NULL)
    owned_args = g_variant_ref_sink (args);

  if (!_proc_check_task_name (task, error))
    return NULL;
  if (owned_args == NULL)
    owned_args = g_variant_ref_sink (g_variant_new ("()"));
  if (!is_chunk && !g_variant_is_of_type (owned_args, G_VARIANT_TYPE_TUPLE))
    {
      g_set_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT,
                   PROC_ARGS_NOT_TUPLE_MESSAGE,
                   task, g_variant_get_type_string (owned_args));
      return NULL;
    }
  if (timeout_usec < -1)
    {
      g_set_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT,
                   "Invalid timeout %" G_GINT64_FORMAT " (use -1 for the default, 0 for none)",
                   timeout_usec);
      return NULL;
    }
  if (fd_list != NULL && g_unix_fd_list_get_length (fd_list) > 64)
    {
      g_set_error_literal (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT,
                           "At most 64 file descriptors can be passed to a task");
      return NULL;
    }
  if (timeout_usec == -1)
    timeout_usec = _proc_pool_get_task_timeout (self->pool);

  future = _proc_future_new (self->pool, task, owned_args, fd_list, timeout_usec,
                             cancellable, is_chunk);
  /* A future that was never queued is never seen by anyone: drop it. */
  if (!_proc_pool_submit (self->pool, future, error))
    return NULL;

  return g_steal_pointer (&future);
}

/**
 * proc_executor_submit_full:
 * @self: an executor
 * @task: the name of a task registered in the workers
 * @args: (nullable): the task's argument tuple; %NULL means `()`; a
 *   floating reference is consumed
 * @fd_list: (nullable): file descriptors for the task, which handles (`h`)
 *   in @args index; the task gets them from [method@Task.get_fd_list]
 * @timeout_usec: the task's timeout in microseconds, counted from when it
 *   starts to run; -1 for [property@Executor:task-timeout], 0 for none
 * @cancellable: (nullable): interrupts the task when cancelled, even
 *   while it runs, as [method@Future.interrupt]
 * @error: return location for an error
 *
 * As [method@Executor.submit], with per-task options.
 *
 * Returns: (transfer full): the task's future, or %NULL on error
 */
ProcFuture *
proc_executor_submit_full (ProcExecutor  *self,
                           const char    *task,
                           GVariant      *args,
                           GUnixFDList   *fd_list,
                           gint64         timeout_usec,
                           GCancellable  *cancellable,
                           GError       **error)
{
  g_return_val_if_fail (PROC_IS_EXECUTOR (self), NULL);
  g_return_val_if_fail (fd_list == NULL || G_IS_UNIX_FD_LIST (fd_list), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return submit_internal (self, task, args, fd_list, timeout_usec, cancellable, FALSE, error);
}

ProcFuture *
_proc_executor_submit_chunk (ProcExecutor  *self,
                             const char    *task,
                             GVariant      *items,
                             GError       **error)
{
  return submit_internal (self, task, items, NULL, -1, NULL, TRUE, error);
}

static void
submit_async_done (GObject      *object,
                   GAsyncResult *result,
                   gpointer      data)
{
  g_autoptr(GTask) task = data;
  GError *error = NULL;
  GVariant *value = proc_future_wait_finish (PROC_FUTURE (object), result, &error);

  if (value == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, value, (GDestroyNotify) g_variant_unref);
}

/**
 * proc_executor_submit_async:
 * @self: an executor
 * @task: the name of a task registered in the workers
 * @args: (nullable): the task's argument tuple; %NULL means `()`; a
 *   floating reference is consumed
 * @cancellable: (nullable): interrupts the task when cancelled, even while
 *   it runs
 * @callback: (scope async): called with the task's outcome
 * @user_data: data for @callback
 *
 * Runs @task and calls back with its outcome, in the thread-default main
 * context of the thread that calls this. Finish with
 * [method@Executor.submit_finish].
 */
void
proc_executor_submit_async (ProcExecutor        *self,
                            const char          *task,
                            GVariant            *args,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) gtask = NULL;
  g_autoptr(ProcFuture) future = NULL;
  GError *error = NULL;

  g_return_if_fail (PROC_IS_EXECUTOR (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  gtask = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (gtask, proc_executor_submit_async);

  future = submit_internal (self, task, args, NULL, -1, cancellable, FALSE, &error);
  if (future == NULL)
    {
      g_task_return_error (gtask, error);
      return;
    }

  proc_future_wait_async (future, NULL, submit_async_done, g_steal_pointer (&gtask));
}

/**
 * proc_executor_submit_finish:
 * @self: an executor
 * @result: the result given to the callback
 * @error: return location for the task's error
 *
 * Finishes [method@Executor.submit_async].
 *
 * Returns: (transfer full): the task's result
 */
GVariant *
proc_executor_submit_finish (ProcExecutor  *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (PROC_IS_EXECUTOR (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- map ------------------------------------------------------------------ */

/**
 * proc_executor_map:
 * @self: an executor
 * @task: the name of a task registered in the workers
 * @inputs: an array of argument tuples (type `a(…)`, or `av` of tuples); a
 *   floating reference is consumed
 * @chunksize: how many items travel in one message and run as one unit of
 *   work; at least 1
 * @buffersize: the most chunks submitted and not yet consumed (look-ahead);
 *   0 means eight times [property@Executor:max-workers], enough to keep
 *   every worker fed while the results are consumed
 * @timeout_usec: a deadline for the whole map, in microseconds from this
 *   call; -1 for none
 * @error: return location for an error
 *
 * Runs @task over @inputs, as Python's `map()`, and returns an iterator
 * over the results in input order. Work is submitted as the iterator is
 * consumed, at most @buffersize chunks ahead.
 *
 * Returns: (transfer full): the results' iterator, or %NULL on error
 */
ProcMapIter *
proc_executor_map (ProcExecutor  *self,
                   const char    *task,
                   GVariant      *inputs,
                   guint          chunksize,
                   guint          buffersize,
                   gint64         timeout_usec,
                   GError       **error)
{
  g_autoptr(GVariant) owned = NULL;
  const GVariantType *type;

  g_return_val_if_fail (PROC_IS_EXECUTOR (self), NULL);
  g_return_val_if_fail (inputs != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  owned = g_variant_ref_sink (inputs);
  type = g_variant_get_type (owned);
  if (!g_variant_type_is_array (type) ||
      !(g_variant_type_is_tuple (g_variant_type_element (type)) ||
        g_variant_type_equal (g_variant_type_element (type), G_VARIANT_TYPE_VARIANT)))
    {
      g_set_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT,
                   "Map inputs must be an array of argument tuples, not “%s”",
                   g_variant_get_type_string (owned));
      return NULL;
    }

  return _proc_map_iter_new (self, task, owned, NULL, NULL, NULL,
                             chunksize, buffersize, timeout_usec, error);
}

/**
 * proc_executor_map_func:
 * @self: an executor
 * @task: the name of a task registered in the workers
 * @input_func: (scope notified) (closure user_data) (destroy destroy): produces the next argument tuple
 * @user_data: data for @input_func
 * @destroy: (nullable): frees @user_data when the iterator is done with it
 * @chunksize: how many items travel in one message; at least 1
 * @buffersize: the most chunks submitted and not yet consumed; 0 means
 *   eight times [property@Executor:max-workers]
 * @timeout_usec: a deadline for the whole map, in microseconds from this
 *   call; -1 for none
 * @error: return location for an error
 *
 * As [method@Executor.map], for inputs produced on demand: @input_func is
 * called, in the thread consuming the iterator, only as the look-ahead
 * needs more items, so an endless input never fills memory.
 *
 * Returns: (transfer full): the results' iterator, or %NULL on error
 */
ProcMapIter *
proc_executor_map_func (ProcExecutor      *self,
                        const char        *task,
                        ProcMapInputFunc   input_func,
                        gpointer           user_data,
                        GDestroyNotify     destroy,
                        guint              chunksize,
                        guint              buffersize,
                        gint64             timeout_usec,
                        GError           **error)
{
  g_return_val_if_fail (PROC_IS_EXECUTOR (self), NULL);
  g_return_val_if_fail (input_func != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return _proc_map_iter_new (self, task, NULL, input_func, user_data, destroy,
                             chunksize, buffersize, timeout_usec, error);
}

/* ---- shutdown ------------------------------------------------------------- */

/**
 * proc_executor_shutdown:
 * @self: an executor
 * @wait: whether to block until all work is done and every worker exited
 * @cancel_futures: whether to cancel the tasks not yet handed to a worker
 *
 * Stops accepting work, as Python's `shutdown()`. Tasks already submitted
 * still run (unless @cancel_futures) and their futures resolve; then the
 * workers exit. Calling it again is harmless. With @wait %FALSE it never
 * blocks.
 */
void
proc_executor_shutdown (ProcExecutor *self,
                        gboolean      wait,
                        gboolean      cancel_futures)
{
  g_return_if_fail (PROC_IS_EXECUTOR (self));

  _proc_pool_shutdown (self->pool, wait, cancel_futures);
}

/**
 * proc_executor_shutdown_async:
 * @self: an executor
 * @cancel_futures: whether to cancel the tasks not yet handed to a worker
 * @cancellable: (nullable): cancels the wait, not the shutdown
 * @callback: (scope async): called once all work is done and every worker
 *   exited
 * @user_data: data for @callback
 *
 * As [method@Executor.shutdown] with `wait`, without blocking.
 */
void
proc_executor_shutdown_async (ProcExecutor        *self,
                              gboolean             cancel_futures,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (PROC_IS_EXECUTOR (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, proc_executor_shutdown_async);
  _proc_pool_shutdown (self->pool, FALSE, cancel_futures);
  _proc_pool_on_finished (self->pool, task);
}

/**
 * proc_executor_shutdown_finish:
 * @self: an executor
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Finishes [method@Executor.shutdown_async].
 *
 * Returns: %TRUE once the executor is fully shut down
 */
gboolean
proc_executor_shutdown_finish (ProcExecutor  *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (PROC_IS_EXECUTOR (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * proc_executor_terminate_workers:
 * @self: an executor
 *
 * Shuts down at once, as Python's `terminate_workers()`: cancels the tasks
 * not yet running, and sends SIGTERM to every worker. Running tasks fail
 * with [error@Error.WORKER_DIED].
 */
void
proc_executor_terminate_workers (ProcExecutor *self)
{
  g_return_if_fail (PROC_IS_EXECUTOR (self));

  _proc_pool_shutdown (self->pool, FALSE, TRUE);
  _proc_pool_signal_workers (self->pool, FALSE);
}

/**
 * proc_executor_kill_workers:
 * @self: an executor
 *
 * As [method@Executor.terminate_workers], with SIGKILL.
 */
void
proc_executor_kill_workers (ProcExecutor *self)
{
  g_return_if_fail (PROC_IS_EXECUTOR (self));

  _proc_pool_shutdown (self->pool, FALSE, TRUE);
  _proc_pool_signal_workers (self->pool, TRUE);
}
