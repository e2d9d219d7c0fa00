/* proc-worker.c: the worker side of procexec
 *
 * A worker has two threads. The main thread runs task functions, one at a
 * time, in the order they were sent, so that interpreters that must run on
 * the main thread (Python, GJS) can implement tasks. While it has nothing
 * to run it reads the channel itself: short tasks cost no hand-over
 * between threads. Once a task has run for TAKEOVER_USEC, a reader thread
 * takes over the channel until the task returns: it trips the task's
 * cancellable when the parent interrupts it, gives back queued tasks the
 * parent reclaims for an idle worker, and ends the process when the
 * parent goes away.
 *
 * A result is written as soon as its task returns, except after a short
 * task with more work queued: then it is held back, to go out with the
 * next ones in one system call, for at most HOLD_USEC and MAX_HELD
 * results. Held back in this process's memory alone, it would be lost if
 * the next task crashed, so a copy of its frame goes to the result log,
 * shared memory the parent reads when a worker dies (see
 * proc-protocol-private.h). The reader thread writes what is held when
 * its time is up and a task is still running.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmodule.h>

#include "proc-channel-private.h"
#include "proc-enums.h"
#include "proc-protocol-private.h"
#include "proc-worker-private.h"

/* After the parent is gone, how long a running task may take to notice. */
#define ORPHAN_GRACE_USEC  (200 * 1000)
/* How long a task runs before the reader thread watches the channel. */
#define TAKEOVER_USEC      (20 * 1000)
/* For this long after a task, the reader thread looks for the next one
 * every TAKEOVER_USEC instead of being woken by its start: a stream of
 * short tasks then costs no thread wake-up per task. */
#define LINGER_USEC        (1000 * 1000)
/* The result of a task that ran for less than HOLD_TASK_USEC may be held
 * back while more are queued (at its end, a system call costs more than a
 * tenth of such a task), for at most HOLD_USEC and MAX_HELD results. */
#define HOLD_TASK_USEC     100
#define HOLD_USEC          500
#define MAX_HELD           32

typedef struct {
  ProcTaskFunc   func;
  gpointer       user_data;
  GDestroyNotify destroy;
} TaskEntry;

typedef enum {
  ITEM_RUN,
  ITEM_RUN_CHUNK,
  ITEM_EXIT,
} ItemKind;

typedef struct {
  ItemKind     kind;
  gboolean     cancelled;
  guint64      id;
  GVariant    *payload;  /* owns the bytes of @name */
  const char  *name;
  GVariant    *value;    /* the call's value, unboxed from the payload */
  GUnixFDList *fds;
} WorkItem;

/**
 * ProcWorker:
 *
 * The worker side of procexec: a registry of named task functions that
 * serves the tasks a [class@Executor] sends.
 *
 * `procexec-worker`, the default worker program, is a `ProcWorker` that
 * loads task modules. A program can also be its own worker ("self-exec"):
 * it registers its tasks at the start of `main()` and calls
 * [method@Worker.main_if_worker], then creates its executor with
 * [ctor@Executor.new_self_exec]:
 *
 * ```c
 * int
 * main (int argc, char **argv)
 * {
 *   g_autoptr(ProcWorker) worker = proc_worker_new ();
 *
 *   proc_worker_register_task (worker, "square", square, NULL, NULL);
 *   proc_worker_main_if_worker (worker);   // never returns in a worker
 *
 *   g_autoptr(ProcExecutor) executor = proc_executor_new_self_exec (0);
 *   …
 * }
 * ```
 *
 * Language bindings write workers the same way: register functions, then
 * call [method@Worker.serve] when [func@Worker.is_worker_process] says so.
 * Task functions run on the thread that calls [method@Worker.serve].
 */
struct _ProcWorker {
  GObject       parent_instance;

  GHashTable   *tasks;           /* name → TaskEntry */
  GPtrArray    *modules;         /* GModule */

  ProcChannel  *channel;
  GMutex        out_lock;        /* channel output, and this block */
  ProcResultLogHeader *result_log;  /* mapped; NULL: no result is held back */
  guint         n_held;          /* results queued but not written */
  gint64        flush_due;       /* when they must be written; 0: none held */
  gint64        reader_wakes_at; /* when the reader looks at flush_due next */
  guint         log_kept_flushes; /* flushes that leave the log as it is */

  /* Main thread only: reused while nobody else holds them. */
  ProcTask     *spare_task;
  GCancellable *spare_cancellable;

  GThread      *main_thread;
  int           wake_fd;         /* eventfd: the reader gives the channel back */

  GMutex        lock;            /* everything below */
  GCond         cond;            /* the main thread waits on it */
  GCond         reader_cond;     /* the reader thread waits on it */
  GQueue        queue;           /* WorkItem */
  guint64       current_id;
  GCancellable *current_cancellable;
  gint64        task_started;    /* 0: no task running */
  gint64        task_ended;      /* when the last one ended; 0: none yet */
  gboolean      main_reading;    /* who reads the channel now, if anyone */
  gboolean      reader_reading;
  gboolean      reader_parked;   /* waiting to be woken by a task's start */
  gboolean      kicked;          /* wake_fd written, not yet seen */
  gboolean      parent_gone;
  gboolean      serving;
  gboolean      stopping;
};

G_DEFINE_FINAL_TYPE (ProcWorker, proc_worker, G_TYPE_OBJECT)

static void
task_entry_free (gpointer data)
{
  TaskEntry *entry = data;

  if (entry->destroy)
    entry->destroy (entry->user_data);
  g_free (entry);
}

static void
work_item_free (WorkItem *item)
{
  g_clear_pointer (&item->payload, g_variant_unref);
  g_clear_pointer (&item->value, g_variant_unref);
  g_clear_object (&item->fds);
  g_free (item);
}

static void
proc_worker_finalize (GObject *object)
{
  ProcWorker *self = PROC_WORKER (object);

  g_queue_clear_full (&self->queue, (GDestroyNotify) work_item_free);
  if (self->result_log != NULL)
    munmap (self->result_log, PROC_RESULT_LOG_SIZE);
  g_clear_object (&self->spare_task);
  g_clear_object (&self->spare_cancellable);
  g_hash_table_unref (self->tasks);
  g_ptr_array_unref (self->modules);
  g_mutex_clear (&self->out_lock);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_cond_clear (&self->reader_cond);

  G_OBJECT_CLASS (proc_worker_parent_class)->finalize (object);
}

static void
proc_worker_class_init (ProcWorkerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = proc_worker_finalize;
}

static void
proc_worker_init (ProcWorker *self)
{
  self->tasks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, task_entry_free);
  /* Modules stay loaded for the life of the process: task functions and
   * their user data may live in them until the very end. */
  self->modules = g_ptr_array_new ();
  g_mutex_init (&self->out_lock);
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_cond_init (&self->reader_cond);
  self->wake_fd = -1;
  g_queue_init (&self->queue);
}

/**
 * proc_worker_new:
 *
 * Creates a worker with no tasks.
 *
 * Returns: (transfer full): a new worker
 */
ProcWorker *
proc_worker_new (void)
{
  return g_object_new (PROC_TYPE_WORKER, NULL);
}

/**
 * proc_worker_register_task:
 * @self: a worker
 * @name: the task's name, as given to [method@Executor.submit]
 * @func: (scope notified) (closure user_data) (destroy destroy): the task function
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when the worker is finalized
 *
 * Registers a task function under @name, replacing any earlier one.
 */
void
proc_worker_register_task (ProcWorker     *self,
                           const char     *name,
                           ProcTaskFunc    func,
                           gpointer        user_data,
                           GDestroyNotify  destroy)
{
  TaskEntry *entry;

  g_return_if_fail (PROC_IS_WORKER (self));
  g_return_if_fail (name != NULL && *name != '\0');
  g_return_if_fail (func != NULL);

  entry = g_new0 (TaskEntry, 1);
  entry->func = func;
  entry->user_data = user_data;
  entry->destroy = destroy;
  g_hash_table_replace (self->tasks, g_strdup (name), entry);
}

/**
 * proc_worker_has_task:
 * @self: a worker
 * @name: a task name
 *
 * Whether a task of that name is registered.
 *
 * Returns: %TRUE if @name is registered
 */
gboolean
proc_worker_has_task (ProcWorker *self,
                      const char *name)
{
  g_return_val_if_fail (PROC_IS_WORKER (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  return g_hash_table_contains (self->tasks, name);
}

static char *
find_module (const char *name)
{
  const char *env_path;

  if (strchr (name, '/') != NULL)
    return g_strdup (name);

  env_path = g_getenv ("PROCEXEC_MODULE_PATH");
  if (env_path != NULL)
    {
      g_auto(GStrv) dirs = g_strsplit (env_path, G_SEARCHPATH_SEPARATOR_S, -1);

      for (guint i = 0; dirs[i] != NULL; i++)
        {
          g_autofree char *path = g_module_build_path (dirs[i], name);

          if (*dirs[i] != '\0' && g_file_test (path, G_FILE_TEST_EXISTS))
            return g_steal_pointer (&path);
        }
    }

  return g_module_build_path (PROC_MODULE_DIR, name);
}

/**
 * proc_worker_load_module:
 * @self: a worker
 * @path: (type filename): a module file, or a module name looked up in
 *   `$PROCEXEC_MODULE_PATH` then in the installed module directory
 * @error: return location for an error
 *
 * Loads a task module: a shared object exporting a [callback@ModuleInitFunc]
 * named `proc_module_init`, which registers its tasks on @self.
 *
 * Returns: %TRUE on success
 */
gboolean
proc_worker_load_module (ProcWorker  *self,
                         const char  *path,
                         GError     **error)
{
  g_autofree char *file = NULL;
  ProcModuleInitFunc init = NULL;
  GModule *module;

  g_return_val_if_fail (PROC_IS_WORKER (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  file = find_module (path);
  module = g_module_open (file, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
  if (module == NULL)
    {
      g_set_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT,
                   "Could not load task module %s: %s", path, g_module_error ());
      return FALSE;
    }

  if (!g_module_symbol (module, PROC_MODULE_INIT_SYMBOL, (gpointer *) &init) || init == NULL)
    {
      g_set_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT,
                   "Task module %s has no %s() entry point", path, PROC_MODULE_INIT_SYMBOL);
      g_module_close (module);
      return FALSE;
    }

  g_module_make_resident (module);
  g_ptr_array_add (self->modules, module);

  if (!init (self, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, PROC_ERROR, PROC_ERROR_FAILED,
                     "Task module %s failed to initialize", path);
      return FALSE;
    }

  return TRUE;
}

/**
 * proc_worker_is_worker_process:
 *
 * Whether this process was started by a [class@Executor] as one of its
 * workers, that is whether [method@Worker.serve] has a channel to serve.
 *
 * Returns: %TRUE in a worker process
 */
gboolean
proc_worker_is_worker_process (void)
{
  return g_getenv (PROC_CHANNEL_FD_ENV) != NULL;
}

/* ---- output ------------------------------------------------------------ */

static void
die_on_channel_error (const GError *error)
{
  /* The parent is gone or sent garbage: nobody is left to answer. */
  g_printerr ("procexec-worker[%d]: %s\n", (int) getpid (), error->message);
  _exit (1);
}

static GVariant *
error_reply (guint64       id,
             const GError *error)
{
  g_autofree char *domain = NULL, *message = NULL;
  gint code;

  proc_error_to_wire (error, &domain, &code, &message);
  return g_variant_new ("(tsis)", id, domain, code, message);
}

/* A result that cannot be sent (e.g. no memory for a memfd) still owes
 * its task an answer. */
static void
queue_send_error_locked (ProcWorker   *self,
                         guint64       id,
                         const GError *error)
{
  if (!proc_channel_queue (self->channel, PROC_MSG_ERROR, error_reply (id, error), NULL, NULL))
    die_on_channel_error (error);
}

static void
queue_locked (ProcWorker  *self,
              guint8       kind,
              GVariant    *payload)
{
  g_autoptr(GError) error = NULL;
  guint64 id = 0;

  g_variant_ref_sink (payload);
  if (!proc_channel_queue (self->channel, kind, payload, NULL, &error))
    {
      if (kind != PROC_MSG_CHUNK_RESULT)
        die_on_channel_error (error);
      g_variant_get_child (payload, 0, "t", &id);
      queue_send_error_locked (self, id, error);
    }
  g_variant_unref (payload);
}

static void
flush_locked (ProcWorker *self)
{
  g_autoptr(GError) error = NULL;

  if (!proc_channel_flush (self->channel, TRUE, &error))
    {
      if (self->parent_gone || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE) ||
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
        _exit (0);
      die_on_channel_error (error);
    }

  /* Only now: until the frames are all in the socket, the log is their
   * only copy the parent can read if this process dies. */
  self->n_held = 0;
  self->flush_due = 0;
  if (self->log_kept_flushes > 0)
    self->log_kept_flushes--;
  else if (self->result_log != NULL && self->result_log->length != 0)
    g_atomic_int_set ((gint *) &self->result_log->length, 0);
}

/* The reader thread writes what is held while a task runs. That task may
 * have written on the channel itself (a bug, or a hostile task), before
 * these results: the parent stops reading at such bytes and blames the
 * task it thinks is running, the first of them, unless the log shows that
 * it had ended. So the log keeps them until the main thread has flushed
 * once more, after the task. */
static void
flush_from_reader_locked (ProcWorker *self)
{
  self->log_kept_flushes = 2;
  flush_locked (self);
}

/* Holds back the result frame just queued, whose bytes start @start bytes
 * into the channel's output, by copying it into the result log; @now is
 * when its task ended. Returns whether it may wait; with @wake_reader set
 * when the reader thread must be told about the new deadline. */
static gboolean
hold_back_locked (ProcWorker *self,
                  gsize       start,
                  gint64      now,
                  gboolean   *wake_reader)
{
  gsize size = proc_channel_get_output_size (self->channel) - start;
  guint32 used = self->result_log->length;

  if (proc_channel_get_output_n_fds (self->channel) > 0 ||
      size > PROC_RESULT_LOG_SIZE - sizeof (ProcResultLogHeader) - used)
    return FALSE;

  memcpy ((guint8 *) (self->result_log + 1) + used,
          proc_channel_peek_output (self->channel) + start, size);
  /* A full barrier: the parent never sees a length whose bytes are not
   * there yet. */
  g_atomic_int_set ((gint *) &self->result_log->length, (gint) (used + size));

  if (++self->n_held >= MAX_HELD)
    return FALSE;
  if (self->flush_due == 0)
    {
      self->flush_due = now + HOLD_USEC;
      *wake_reader = self->reader_wakes_at > self->flush_due;
      return TRUE;
    }
  return now < self->flush_due;
}

/* Sends a task's result: at once, unless @held_since (when the task
 * ended, 0 when its result must go at once) is set and it can be held
 * back (see the top of this file). */
static void
send_result (ProcWorker  *self,
             guint64      id,
             GVariant    *result,
             GUnixFDList *fds,
             gint64       held_since)
{
  g_autoptr(GError) error = NULL;
  gsize start;
  gboolean wake_reader = FALSE;

  g_mutex_lock (&self->out_lock);
  start = proc_channel_get_output_size (self->channel);
  if (!proc_channel_queue_call (self->channel, PROC_MSG_RESULT, id, NULL, result, fds, &error))
    {
      queue_send_error_locked (self, id, error);
      held_since = 0;
    }
  if (held_since == 0 || self->result_log == NULL ||
      !hold_back_locked (self, start, held_since, &wake_reader))
    flush_locked (self);
  g_mutex_unlock (&self->out_lock);

  /* Under the lock the reader waits with: it cannot miss the signal
   * between reading flush_due and waiting. */
  if (wake_reader)
    {
      g_mutex_lock (&self->lock);
      g_cond_signal (&self->reader_cond);
      g_mutex_unlock (&self->lock);
    }
}

/* Writes the results held back, if any. */
static void
flush_held (ProcWorker *self)
{
  g_mutex_lock (&self->out_lock);
  if (self->n_held > 0)
    flush_locked (self);
  g_mutex_unlock (&self->out_lock);
}

/* Sends a message at once. */
static void
send_now (ProcWorker *self,
          guint8      kind,
          GVariant   *payload)
{
  g_mutex_lock (&self->out_lock);
  queue_locked (self, kind, payload);
  flush_locked (self);
  g_mutex_unlock (&self->out_lock);
}

void
_proc_worker_report_progress (ProcWorker *self,
                              guint64     id,
                              double      fraction,
                              GVariant   *detail)
{
  if (self->channel == NULL)
    return;
  send_now (self, PROC_MSG_PROGRESS, g_variant_new ("(tdmv)", id, fraction, detail));
}

/* ---- reader thread ------------------------------------------------------ */

static void
cancel_id (ProcWorker *self,
           guint64     id)
{
  GCancellable *to_cancel = NULL;

  g_mutex_lock (&self->lock);
  if (self->current_cancellable != NULL && self->current_id == id)
    to_cancel = g_object_ref (self->current_cancellable);
  else
    for (GList *l = self->queue.head; l != NULL; l = l->next)
      {
        WorkItem *item = l->data;
        if (item->id == id && item->kind != ITEM_EXIT)
          item->cancelled = TRUE;
      }
  g_mutex_unlock (&self->lock);

  /* Outside the lock: ::cancelled handlers run right here. */
  if (to_cancel != NULL)
    {
      g_cancellable_cancel (to_cancel);
      g_object_unref (to_cancel);
    }
}

/* Gives a queued task back to the parent, which found an idle worker for
 * it. The reply goes out before the queue lock is released: the main
 * thread must not answer a later task first, since the parent matches
 * answers to tasks in order. */
static void
reclaim_id (ProcWorker *self,
            guint64     id)
{
  WorkItem *reclaimed = NULL;

  g_mutex_lock (&self->lock);
  for (GList *l = self->queue.head; l != NULL; l = l->next)
    {
      WorkItem *item = l->data;

      if (item->id == id && item->kind != ITEM_EXIT)
        {
          reclaimed = item;
          g_queue_delete_link (&self->queue, l);
          break;
        }
    }
  if (reclaimed != NULL)
    send_now (self, PROC_MSG_RECLAIMED, g_variant_new ("(t)", id));
  g_mutex_unlock (&self->lock);

  if (reclaimed != NULL)
    work_item_free (reclaimed);
}

static void
parent_gone (ProcWorker *self)
{
  GCancellable *to_cancel = NULL;
  gint64 deadline = g_get_monotonic_time () + ORPHAN_GRACE_USEC;

  g_mutex_lock (&self->lock);
  self->parent_gone = TRUE;
  if (self->current_cancellable != NULL)
    to_cancel = g_object_ref (self->current_cancellable);
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);

  if (to_cancel != NULL)
    {
      g_cancellable_cancel (to_cancel);
      g_object_unref (to_cancel);
    }

  /* Give a cooperative task a moment, then leave no orphan behind. */
  g_mutex_lock (&self->lock);
  while (self->serving)
    if (!g_cond_wait_until (&self->cond, &self->lock, deadline))
      {
        fflush (stdout);
        _exit (0);
      }
  g_mutex_unlock (&self->lock);
}

/* Queues a batch of items with one wake-up of the main thread. */
static void
push_items (ProcWorker *self,
            GQueue     *items)
{
  if (g_queue_is_empty (items))
    return;

  g_mutex_lock (&self->lock);
  while (!g_queue_is_empty (items))
    g_queue_push_tail (&self->queue, g_queue_pop_head (items));
  /* The main thread reading for itself needs no wake-up. */
  if (g_thread_self () != self->main_thread)
    g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);
}

/* Handles every complete frame already read. */
static void
reader_handle_frames (ProcWorker *self)
{
  g_autoptr(GError) error = NULL;
  GQueue batch = G_QUEUE_INIT;
  ProcFrame frame;

  while (proc_channel_next (self->channel, &frame, &error))
    {
      WorkItem *item;
      guint64 id;

      switch ((ProcMessageKind) frame.kind)
        {
        case PROC_MSG_RUN:
        case PROC_MSG_RUN_CHUNK:
          item = g_new0 (WorkItem, 1);
          item->kind = frame.kind == PROC_MSG_RUN ? ITEM_RUN : ITEM_RUN_CHUNK;
          item->id = frame.id;
          item->name = frame.name;
          item->payload = g_steal_pointer (&frame.payload);
          item->value = g_steal_pointer (&frame.value);
          item->fds = g_steal_pointer (&frame.fds);
          g_queue_push_tail (&batch, item);
          break;

        case PROC_MSG_CANCEL:
          /* Order matters: the task may be in this very batch. */
          push_items (self, &batch);
          g_variant_get (frame.payload, "(t)", &id);
          cancel_id (self, id);
          break;

        case PROC_MSG_RECLAIM:
          push_items (self, &batch);
          g_variant_get (frame.payload, "(t)", &id);
          reclaim_id (self, id);
          break;

        case PROC_MSG_EXIT:
          item = g_new0 (WorkItem, 1);
          item->kind = ITEM_EXIT;
          g_queue_push_tail (&batch, item);
          break;

        default:
          g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "Unexpected %s message", proc_message_kind_name (frame.kind));
          break;
        }
      proc_frame_clear (&frame);
      if (error != NULL)
        break;
    }

  push_items (self, &batch);
  if (error != NULL)
    die_on_channel_error (error);
}

/* Reader thread: waits until a task has run for TAKEOVER_USEC while the
 * main thread is busy, then reads the channel until the main thread
 * wants it back. A task's start wakes it only when it has been parked,
 * after LINGER_USEC without tasks; so it takes over between TAKEOVER_USEC
 * and twice that after a task started. */
static gpointer
reader_thread (gpointer data)
{
  ProcWorker *self = data;
  int fd = proc_channel_get_fd (self->channel);

  for (;;)
    {
      g_mutex_lock (&self->lock);
      for (;;)
        {
          gint64 now = g_get_monotonic_time ();
          gint64 due = G_MAXINT64;  /* when woken */
          gboolean take_over = FALSE;

          if (self->stopping)
            {
              g_mutex_unlock (&self->lock);
              return NULL;
            }
          if (self->task_started != 0 && !self->main_reading)
            {
              due = self->task_started + TAKEOVER_USEC;
              take_over = now >= due;
            }
          else if (self->task_ended != 0 && now < self->task_ended + LINGER_USEC)
            due = now + TAKEOVER_USEC;

          g_mutex_lock (&self->out_lock);
          if (self->n_held > 0 && (take_over || now >= self->flush_due))
            {
              /* Their time is up, and the main thread is busy. */
              g_mutex_unlock (&self->lock);
              flush_from_reader_locked (self);
              g_mutex_unlock (&self->out_lock);
              g_mutex_lock (&self->lock);
              continue;
            }
          if (self->n_held > 0)
            due = MIN (due, self->flush_due);
          self->reader_wakes_at = take_over ? G_MAXINT64 : due;
          g_mutex_unlock (&self->out_lock);

          if (take_over)
            break;
          if (due == G_MAXINT64)
            {
              self->reader_parked = TRUE;
              g_cond_wait (&self->reader_cond, &self->lock);
              self->reader_parked = FALSE;
            }
          else
            g_cond_wait_until (&self->reader_cond, &self->lock, due);
        }
      self->reader_reading = TRUE;
      g_mutex_unlock (&self->lock);

      for (;;)
        {
          g_autoptr(GError) error = NULL;
          struct pollfd pfds[2] = {
            { fd, POLLIN, 0 },
            { self->wake_fd, POLLIN, 0 },
          };
          gssize n;

          reader_handle_frames (self);
          if (poll (pfds, 2, -1) < 0)
            {
              if (errno == EINTR)
                continue;
              g_error ("procexec-worker: poll failed: %s", g_strerror (errno));
            }
          if (pfds[1].revents & POLLIN)
            {
              guint64 count;

              /* The main thread wants the channel back. */
              if (read (self->wake_fd, &count, sizeof count) < 0 && errno != EAGAIN)
                g_warning ("procexec-worker: could not read the wake-up counter: %s",
                           g_strerror (errno));
              break;
            }
          n = proc_channel_fill (self->channel, &error);
          if (n <= 0 && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            {
              parent_gone (self);
              return NULL;
            }
        }

      g_mutex_lock (&self->lock);
      self->reader_reading = FALSE;
      self->kicked = FALSE;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
    }
}

/* With the lock held: asks a reading reader thread to give the channel
 * back; it broadcasts self->cond when it has. */
static void
kick_reader_locked (ProcWorker *self)
{
  guint64 one = 1;

  if (self->kicked)
    return;
  self->kicked = TRUE;
  if (write (self->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
    g_warning ("procexec-worker: could not wake the reader thread: %s", g_strerror (errno));
}

/* Main thread, with nothing to run: reads the channel until there is
 * work. Returns with the lock held; FALSE when the parent is gone. */
static gboolean
wait_for_work_locked (ProcWorker *self)
{
  while (g_queue_is_empty (&self->queue) && !self->parent_gone)
    {
      g_autoptr(GError) error = NULL;
      gssize n;

      if (self->reader_reading)
        {
          kick_reader_locked (self);
          g_cond_wait (&self->cond, &self->lock);
          continue;
        }

      self->main_reading = TRUE;
      g_mutex_unlock (&self->lock);

      reader_handle_frames (self);
      g_mutex_lock (&self->lock);
      if (g_queue_is_empty (&self->queue))
        {
          g_mutex_unlock (&self->lock);
          n = proc_channel_fill (self->channel, &error);
          if (n > 0)
            reader_handle_frames (self);
          g_mutex_lock (&self->lock);
          if (n <= 0 && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            self->parent_gone = TRUE;
        }
      self->main_reading = FALSE;
    }

  return !self->parent_gone;
}

/* ---- running tasks ------------------------------------------------------ */

static TaskEntry *
lookup_task (ProcWorker  *self,
             const char  *name,
             GError     **error)
{
  TaskEntry *entry = g_hash_table_lookup (self->tasks, name);

  if (entry == NULL)
    g_set_error (error, PROC_ERROR, PROC_ERROR_UNKNOWN_TASK,
                 "No task named “%s” in worker %d", name, (int) getpid ());
  return entry;
}

/* A task object for the next call: the previous one when nobody kept it
 * (the common case), else a new one. */
static ProcTask *
prepare_task (ProcWorker   *self,
              guint64       id,
              const char   *name,
              GCancellable *cancellable,
              GUnixFDList  *fds)
{
  if (self->spare_task != NULL && G_OBJECT (self->spare_task)->ref_count == 1)
    _proc_task_reset (self->spare_task, id, name, cancellable, fds);
  else
    {
      g_clear_object (&self->spare_task);
      self->spare_task = _proc_task_new (self, id, name, cancellable, fds);
    }
  return self->spare_task;
}

/* Calls a task function; the result is never floating, never NULL
 * without an error. */
static GVariant *
call_task (TaskEntry   *entry,
           ProcTask    *task,
           const char  *name,
           GVariant    *args,
           GError     **error)
{
  GError *local_error = NULL;
  GVariant *result;

  if (!g_variant_is_of_type (args, G_VARIANT_TYPE_TUPLE))
    {
      g_set_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT,
                   PROC_ARGS_NOT_TUPLE_MESSAGE,
                   name, g_variant_get_type_string (args));
      return NULL;
    }

  result = entry->func (task, args, entry->user_data, &local_error);

  if (local_error != NULL)
    {
      if (result != NULL)
        {
          g_warning ("Task “%s” returned a value and set an error; the error wins", name);
          g_variant_unref (g_variant_take_ref (result));
        }
      g_propagate_error (error, local_error);
      return NULL;
    }
  if (result == NULL)
    return g_variant_ref_sink (g_variant_new_tuple (NULL, 0));
  /* (transfer full): C tasks return floating references, bindings owned ones. */
  return g_variant_take_ref (result);
}

/* Runs one task; on success, @result_fds (nullable) gets the fds it set
 * for its result, if any. */
static GVariant *
run_one (ProcWorker    *self,
         guint64        id,
         const char    *name,
         GVariant      *args,
         GUnixFDList   *fds,
         GCancellable  *cancellable,
         GUnixFDList  **result_fds,
         GError       **error)
{
  TaskEntry *entry = lookup_task (self, name, error);
  g_autoptr(GUnixFDList) task_result_fds = NULL;
  ProcTask *task;
  GVariant *result;

  if (entry == NULL)
    return NULL;
  task = prepare_task (self, id, name, cancellable, fds);
  result = call_task (entry, task, name, args, error);
  task_result_fds = _proc_task_steal_result_fd_list (task);
  if (result != NULL && result_fds != NULL)
    *result_fds = g_steal_pointer (&task_result_fds);
  return result;
}

/* Runs @item. Returns the payload of the reply, of kind @kind; for a
 * RESULT, the result alone, and in @result_fds the fds to send with it. */
static GVariant *
run_item (ProcWorker    *self,
          WorkItem      *item,
          GCancellable  *cancellable,
          guint8        *kind,
          GUnixFDList  **result_fds)
{
  const char *name = item->name;
  GVariant *args = item->value;
  g_autoptr(GError) error = NULL;

  if (item->kind == ITEM_RUN)
    {
      GVariant *result = run_one (self, item->id, name, args, item->fds, cancellable, result_fds, &error);

      if (result == NULL)
        {
          *kind = PROC_MSG_ERROR;
          return error_reply (item->id, error);
        }
      /* The result itself (owned): send_result() writes the (tv) around it. */
      *kind = PROC_MSG_RESULT;
      return result;
    }
  else
    {
      /* One task object and one lookup for the whole chunk. */
      TaskEntry *entry = lookup_task (self, name, &error);
      ProcTask *task = prepare_task (self, item->id, name, cancellable, item->fds);
      GVariant *items = args;
      ProcItemArrayBuilder results;
      gsize n = 0;
      gboolean boxed = FALSE;
      g_autofree char *domain = NULL, *message = NULL;
      gint code = 0;
      GVariant *reply[6];

      if (error == NULL && !g_variant_is_of_type (items, G_VARIANT_TYPE_ARRAY))
        g_set_error (&error, PROC_ERROR, PROC_ERROR_PROTOCOL,
                     "The items of a chunk must be an array, not “%s”",
                     g_variant_get_type_string (items));
      else if (error == NULL)
        {
          n = g_variant_n_children (items);
          boxed = proc_item_array_is_boxed (items);
        }
      proc_item_array_builder_init (&results);
      for (gsize i = 0; i < n && error == NULL; i++)
        {
          g_autoptr(GVariant) args_i = proc_item_array_get (items, i, boxed);
          GVariant *result = call_task (entry, task, name, args_i, &error);
          g_autoptr(GUnixFDList) fds = _proc_task_steal_result_fd_list (task);

          if (result != NULL && fds != NULL)
            {
              /* A chunk's reply has no room for each item's fds. */
              g_variant_unref (result);
              result = NULL;
              g_set_error (&error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT,
                           PROC_MAP_RESULT_FDS_MESSAGE, name);
            }
          if (result != NULL)
            proc_item_array_builder_add (&results, result);
        }
      if (error != NULL)
        proc_error_to_wire (error, &domain, &code, &message);

      *kind = PROC_MSG_CHUNK_RESULT;
      reply[0] = g_variant_new_uint64 (item->id);
      reply[1] = g_variant_new_variant (proc_item_array_builder_end (&results));
      reply[2] = g_variant_new_boolean (error != NULL);
      reply[3] = g_variant_new_string (domain != NULL ? domain : "");
      reply[4] = g_variant_new_int32 (code);
      reply[5] = g_variant_new_string (message != NULL ? message : "");
      return g_variant_new_tuple (reply, 6);
    }
}

/* The result log the parent gave with HELLO, mapped; NULL without one,
 * and then no result is held back. */
static ProcResultLogHeader *
map_result_log (GUnixFDList *fds)
{
  struct stat st;
  void *map = MAP_FAILED;
  int fd;

  if (fds == NULL || g_unix_fd_list_get_length (fds) != 1)
    return NULL;
  fd = g_unix_fd_list_get (fds, 0, NULL);
  if (fd < 0)
    return NULL;
  if (fstat (fd, &st) == 0 && st.st_size >= PROC_RESULT_LOG_SIZE)
    map = mmap (NULL, PROC_RESULT_LOG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close (fd);
  return map == MAP_FAILED ? NULL : map;
}

static gboolean
handshake (ProcWorker  *self,
           GError     **error)
{
  ProcFrame frame;
  guint32 version;
  g_autofree const char **modules = NULL;   /* bytestrings */
  const char *initializer = NULL;
  g_autoptr(GVariant) initargs = NULL;
  g_autoptr(GError) init_error = NULL;
  g_autoptr(GError) local_error = NULL;

  /* A local error: the caller's may be NULL, and a malformed first frame
   * must end the wait all the same. */
  while (!proc_channel_next (self->channel, &frame, &local_error))
    {
      gssize n;

      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      n = proc_channel_fill (self->channel, error);
      if (n < 0)
        return FALSE;
      if (n == 0)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                               "The parent closed the channel before saying hello");
          return FALSE;
        }
    }

  if (frame.kind != PROC_MSG_HELLO)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "Expected HELLO, got %s", proc_message_kind_name (frame.kind));
      proc_frame_clear (&frame);
      return FALSE;
    }

  g_variant_get (frame.payload, "(u^a&aym&sv)", &version, &modules, &initializer, &initargs);
  if (version != PROC_PROTOCOL_VERSION)
    {
      g_set_error (&init_error, PROC_ERROR, PROC_ERROR_PROTOCOL,
                   "Protocol version %u requested, this worker speaks %u",
                   version, PROC_PROTOCOL_VERSION);
    }
  else
    self->result_log = map_result_log (frame.fds);

  for (guint i = 0; init_error == NULL && modules[i] != NULL; i++)
    proc_worker_load_module (self, modules[i], &init_error);

  if (init_error == NULL && initializer != NULL)
    {
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();
      g_autoptr(GVariant) result = run_one (self, 0, initializer, initargs, NULL,
                                            cancellable, NULL, &init_error);

      (void) result;  /* the initializer's value is not used */
    }

  if (init_error != NULL)
    {
      g_autofree char *domain = NULL, *message = NULL;
      gint code;

      proc_error_to_wire (init_error, &domain, &code, &message);
      send_now (self, PROC_MSG_INIT_FAILED, g_variant_new ("(sis)", domain, code, message));
      proc_frame_clear (&frame);
      g_propagate_error (error, g_steal_pointer (&init_error));
      return FALSE;
    }

  send_now (self, PROC_MSG_READY, g_variant_new ("(u)", (guint32) PROC_PROTOCOL_VERSION));
  proc_frame_clear (&frame);
  return TRUE;
}

/**
 * proc_worker_serve:
 * @self: a worker
 * @error: return location for an error
 *
 * Serves the executor that started this process: receives tasks, runs
 * them on the calling thread one at a time, and sends their results, until
 * the executor tells the worker to exit or goes away.
 *
 * Call it only when [func@Worker.is_worker_process] is %TRUE. When the
 * executor has gone away while a task runs, the task's cancellable trips
 * and the process exits shortly after, whether or not the task returns.
 *
 * Returns: %TRUE when the executor ended the work normally; %FALSE with
 *   @error set when the channel failed or the initializer failed
 */
gboolean
proc_worker_serve (ProcWorker  *self,
                   GError     **error)
{
  const char *fd_str;
  gint64 fd64;
  int fd;
  GThread *reader;
  gboolean ok = TRUE;

  g_return_val_if_fail (PROC_IS_WORKER (self), FALSE);
  g_return_val_if_fail (self->channel == NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  fd_str = g_getenv (PROC_CHANNEL_FD_ENV);
  if (fd_str == NULL ||
      !g_ascii_string_to_signed (fd_str, 10, 0, G_MAXINT, &fd64, NULL) ||
      fcntl ((int) fd64, F_GETFD) < 0)
    {
      g_set_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT,
                   "This process is not a procexec worker (%s is not a valid fd)",
                   PROC_CHANNEL_FD_ENV);
      return FALSE;
    }
  fd = (int) fd64;

  /* Neither the variable nor the fd must leak into processes tasks start:
   * a grandchild holding the socket would hide this worker's death. */
  g_unsetenv (PROC_CHANNEL_FD_ENV);
  fcntl (fd, F_SETFD, FD_CLOEXEC);

  self->channel = proc_channel_new (fd, PROC_CHANNEL_FLAGS_NONE);

  if (!handshake (self, error))
    {
      g_clear_pointer (&self->channel, proc_channel_free);
      return FALSE;
    }

  self->wake_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (self->wake_fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "eventfd: %s", g_strerror (saved));
      g_clear_pointer (&self->channel, proc_channel_free);
      return FALSE;
    }

  self->serving = TRUE;
  self->main_thread = g_thread_self ();
  reader = g_thread_new ("procexec-reader", reader_thread, self);

  for (;;)
    {
      WorkItem *item;
      GVariant *reply;
      guint8 kind;
      GUnixFDList *result_fds = NULL;
      GCancellable *cancellable;
      gint64 task_ended, held_since;

      g_mutex_lock (&self->lock);
      /* Out of work (some may have been reclaimed): nothing is left to
       * wait for. The lock order allows it, as in reclaim_id(). */
      if (g_queue_is_empty (&self->queue))
        flush_held (self);
      if (!wait_for_work_locked (self))
        {
          g_mutex_unlock (&self->lock);
          break;
        }
      item = g_queue_pop_head (&self->queue);
      if (item->kind == ITEM_EXIT)
        {
          g_mutex_unlock (&self->lock);
          work_item_free (item);
          break;
        }
      /* The last task's cancellable, unless it tripped or is still held. */
      cancellable = g_steal_pointer (&self->spare_cancellable);
      if (cancellable == NULL)
        cancellable = g_cancellable_new ();
      if (item->cancelled)
        g_cancellable_cancel (cancellable);
      self->current_id = item->id;
      self->current_cancellable = cancellable;
      self->task_started = g_get_monotonic_time ();
      if (self->reader_parked)
        g_cond_signal (&self->reader_cond);
      g_mutex_unlock (&self->lock);

      if (g_cancellable_is_cancelled (cancellable))
        {
          GError cancelled = { G_IO_ERROR, G_IO_ERROR_CANCELLED, (char *) "Task was cancelled before it started" };
          kind = PROC_MSG_ERROR;
          reply = error_reply (item->id, &cancelled);
        }
      else
        reply = run_item (self, item, cancellable, &kind, &result_fds);

      g_mutex_lock (&self->lock);
      task_ended = g_get_monotonic_time ();
      /* Not while the reader thread reads: it would not watch the time. */
      held_since = kind == PROC_MSG_RESULT && result_fds == NULL &&
                   task_ended - self->task_started < HOLD_TASK_USEC &&
                   !g_queue_is_empty (&self->queue) && !self->reader_reading
                   ? task_ended : 0;
      self->current_cancellable = NULL;
      self->current_id = 0;
      self->task_started = 0;
      self->task_ended = task_ended;
      g_mutex_unlock (&self->lock);

      /* The task's fds and cancellable are released as soon as it ends. */
      if (self->spare_task != NULL)
        _proc_task_reset (self->spare_task, 0, proc_task_get_name (self->spare_task), NULL, NULL);
      if (!g_cancellable_is_cancelled (cancellable) && G_OBJECT (cancellable)->ref_count == 1)
        self->spare_cancellable = cancellable;
      else
        g_object_unref (cancellable);

      if (kind == PROC_MSG_RESULT)
        {
          send_result (self, item->id, reply, result_fds, held_since);
          g_variant_unref (reply);
          g_clear_object (&result_fds);
        }
      else
        send_now (self, kind, reply);
      work_item_free (item);
    }

  g_mutex_lock (&self->out_lock);
  if (!self->parent_gone)
    flush_locked (self);
  g_mutex_unlock (&self->out_lock);

  /* Let the reader end, so that nothing touches this object once
   * serve() returns. */
  g_mutex_lock (&self->lock);
  self->serving = FALSE;
  self->stopping = TRUE;
  g_cond_broadcast (&self->cond);
  g_cond_signal (&self->reader_cond);
  kick_reader_locked (self);
  g_mutex_unlock (&self->lock);
  g_thread_join (reader);
  g_clear_pointer (&self->channel, proc_channel_free);
  close (self->wake_fd);
  self->wake_fd = -1;

  return ok;
}

/**
 * proc_worker_main_if_worker:
 * @self: a worker
 *
 * Turns the calling process into a worker if it was started as one:
 * serves the executor ([method@Worker.serve]) and exits the process,
 * never returning. In any other process it returns at once.
 *
 * Call it at the start of `main()`, after registering the tasks, in
 * programs whose executor is made with [ctor@Executor.new_self_exec].
 */
void
proc_worker_main_if_worker (ProcWorker *self)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (PROC_IS_WORKER (self));

  if (!proc_worker_is_worker_process ())
    return;

  if (!proc_worker_serve (self, &error))
    {
      g_printerr ("procexec worker %d: %s\n", (int) getpid (), error->message);
      fflush (stdout);
      _exit (1);
    }

  fflush (stdout);
  fflush (stderr);
  _exit (0);
}
