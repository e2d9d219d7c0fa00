/* proc-map-iter.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "proc-async-deadline-private.h"
#include "proc-enums.h"
#include "proc-executor-private.h"
#include "proc-map-iter-private.h"
#include "proc-protocol-private.h"

/**
 * ProcMapIter:
 *
 * The results of [method@Executor.map], in input order.
 *
 * Inputs are submitted in chunks as the iterator is consumed, at most
 * `buffersize` chunks ahead. Iteration stops at the first item that failed,
 * with its error, as Python's `map()`; the tasks not yet started are then
 * cancelled. Use an iterator from one thread at a time.
 *
 * ```c
 * GVariant *result;
 * while (proc_map_iter_next (iter, &result, &error))
 *   {
 *     …
 *     g_variant_unref (result);
 *   }
 * if (error != NULL)
 *   …
 * ```
 */

typedef struct {
  ProcFuture *future;   /* NULL when submitting failed */
  GError     *error;    /* why submitting failed */
} Chunk;

struct _ProcMapIter {
  GObject            parent_instance;

  ProcExecutor      *executor;
  char              *task;
  guint              chunksize;
  guint              buffersize;
  gint64             deadline;        /* monotonic; -1: none */

  GVariant          *inputs;          /* array form */
  GBytes            *input_bytes;     /* its bytes, when its items have one size */
  gsize              n_inputs;
  gboolean           inputs_boxed;
  gsize              next_input;
  ProcMapInputFunc   input_func;      /* function form */
  gpointer           input_data;
  GDestroyNotify     input_destroy;
  gboolean           input_done;

  GQueue             chunks;          /* Chunk, oldest first */
  GVariant          *results;         /* item array of the chunk being consumed */
  gsize              n_results;
  gboolean           results_boxed;
  gsize              result_pos;
  GError            *error;           /* after the results above */
  gboolean           finished;

  GTask             *async_task;
  ProcAsyncDeadline  async_wait;
};

G_DEFINE_FINAL_TYPE (ProcMapIter, proc_map_iter, G_TYPE_OBJECT)

static void
chunk_free (Chunk *chunk)
{
  g_clear_object (&chunk->future);
  g_clear_error (&chunk->error);
  g_free (chunk);
}

static void
release_input (ProcMapIter *self)
{
  self->input_done = TRUE;
  g_clear_pointer (&self->inputs, g_variant_unref);
  g_clear_pointer (&self->input_bytes, g_bytes_unref);
  if (self->input_destroy)
    self->input_destroy (self->input_data);
  self->input_destroy = NULL;
  self->input_func = NULL;
  self->input_data = NULL;
}

/**
 * proc_map_iter_close:
 * @self: a map iterator
 *
 * Ends the iteration early: the tasks not yet handed to a worker are
 * cancelled, and no more input is read. Finalizing an iterator closes it.
 */
void
proc_map_iter_close (ProcMapIter *self)
{
  Chunk *chunk;

  g_return_if_fail (PROC_IS_MAP_ITER (self));

  self->finished = TRUE;
  while ((chunk = g_queue_pop_head (&self->chunks)))
    {
      if (chunk->future != NULL)
        proc_future_cancel (chunk->future);
      chunk_free (chunk);
    }
  g_clear_pointer (&self->results, g_variant_unref);
  release_input (self);
}

static void
proc_map_iter_dispose (GObject *object)
{
  ProcMapIter *self = PROC_MAP_ITER (object);

  proc_map_iter_close (self);

  G_OBJECT_CLASS (proc_map_iter_parent_class)->dispose (object);
}

static void
proc_map_iter_finalize (GObject *object)
{
  ProcMapIter *self = PROC_MAP_ITER (object);

  g_clear_object (&self->executor);
  g_free (self->task);
  g_clear_error (&self->error);

  G_OBJECT_CLASS (proc_map_iter_parent_class)->finalize (object);
}

static void
proc_map_iter_class_init (ProcMapIterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = proc_map_iter_dispose;
  object_class->finalize = proc_map_iter_finalize;
}

static void
proc_map_iter_init (ProcMapIter *self)
{
  g_queue_init (&self->chunks);
}

/* The next argument tuple, or NULL at the end of the input, or with
 * @error set when the input function failed. */
static GVariant *
read_input (ProcMapIter  *self,
            GError      **error)
{
  GVariant *item = NULL;

  if (self->input_done)
    return NULL;

  if (self->inputs != NULL)
    {
      if (self->next_input < self->n_inputs)
        item = proc_item_array_get (self->inputs, self->next_input++, self->inputs_boxed);
    }
  else if (self->input_func != NULL)
    {
      GError *local_error = NULL;

      item = self->input_func (self->input_data, &local_error);
      if (item != NULL && local_error != NULL)
        {
          g_warning ("A map input function returned an item and set an error; the error wins");
          g_variant_unref (g_variant_take_ref (item));
          item = NULL;
        }
      if (item != NULL)
        g_variant_take_ref (item);  /* (transfer full), maybe floating */
      else if (local_error != NULL)
        g_propagate_error (error, local_error);
    }

  if (item == NULL)
    release_input (self);

  return item;
}

static void
push_chunk (ProcMapIter *self,
            ProcFuture  *future,
            GError      *error)
{
  Chunk *chunk = g_new0 (Chunk, 1);

  chunk->future = future;
  chunk->error = error;
  g_queue_push_tail (&self->chunks, chunk);
}

/* The next @self->chunksize items (fewer at the end) as one array (see
 * proc_item_array_new()), or NULL when there are none. An input function
 * that fails sets @input_error after the items it gave before. */
static GVariant *
next_chunk (ProcMapIter  *self,
            GError      **input_error)
{
  g_autoptr(GPtrArray) items = NULL;
  GVariant *item;
  GVariant *chunk;

  if (self->input_done)
    return NULL;

  if (self->inputs != NULL)
    {
      gsize n = MIN (self->chunksize, self->n_inputs - self->next_input);
      gsize first = self->next_input;

      if (n == 0)
        {
          release_input (self);
          return NULL;
        }
      self->next_input += n;

      if (self->input_bytes != NULL)
        {
          /* Items of one size: the chunk is a slice of the input's bytes,
           * neither copied nor taken apart here. */
          gsize item_size = g_bytes_get_size (self->input_bytes) / self->n_inputs;
          g_autoptr(GBytes) slice = g_bytes_new_from_bytes (self->input_bytes,
                                                            first * item_size,
                                                            n * item_size);
          chunk = g_variant_new_from_bytes (g_variant_get_type (self->inputs), slice, FALSE);
        }
      else
        {
          g_autofree GVariant **children = g_new (GVariant *, n);

          for (gsize i = 0; i < n; i++)
            children[i] = g_variant_get_child_value (self->inputs, first + i);
          chunk = g_variant_new_array (g_variant_type_element (g_variant_get_type (self->inputs)),
                                       children, n);
          for (gsize i = 0; i < n; i++)
            g_variant_unref (children[i]);
        }
      if (self->next_input == self->n_inputs)
        release_input (self);
      return chunk;
    }

  items = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  while (items->len < self->chunksize && (item = read_input (self, input_error)) != NULL)
    g_ptr_array_add (items, item);
  if (items->len == 0)
    return NULL;
  return proc_item_array_new ((GVariant **) items->pdata, items->len);
}

/* Submits chunks until the look-ahead is full or the input ends; a failed
 * input becomes a chunk that fails with its error, in its place. */
static void
refill (ProcMapIter *self)
{
  while (!self->finished && !self->input_done && self->chunks.length < self->buffersize)
    {
      GError *input_error = NULL;
      GError *error = NULL;
      ProcFuture *future;
      GVariant *items;

      if (self->chunksize == 1)
        {
          if ((items = read_input (self, &input_error)) != NULL)
            {
              future = proc_executor_submit (self->executor, self->task, items, &error);
              g_variant_unref (items);
              push_chunk (self, future, error);
            }
        }
      else if ((items = next_chunk (self, &input_error)) != NULL)
        {
          future = _proc_executor_submit_chunk (self->executor, self->task, items, &error);
          push_chunk (self, future, error);
        }

      if (input_error != NULL)
        push_chunk (self, NULL, input_error);
    }
}

ProcMapIter *
_proc_map_iter_new (ProcExecutor     *executor,
                    const char       *task,
                    GVariant         *inputs,
                    ProcMapInputFunc  input_func,
                    gpointer          user_data,
                    GDestroyNotify    destroy,
                    guint             chunksize,
                    guint             buffersize,
                    gint64            timeout_usec,
                    GError          **error)
{
  ProcMapIter *self;

  if (!_proc_check_task_name (task, error) || chunksize == 0 || timeout_usec < -1)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT,
                     chunksize == 0 ? "chunksize must be at least 1"
                                    : "Invalid timeout (use -1 for none)");
      if (destroy)
        destroy (user_data);
      return NULL;
    }
  if (proc_executor_is_shutdown (executor))
    {
      g_set_error_literal (error, PROC_ERROR, PROC_ERROR_SHUTDOWN,
                           "Cannot schedule new tasks after shutdown");
      if (destroy)
        destroy (user_data);
      return NULL;
    }

  self = g_object_new (PROC_TYPE_MAP_ITER, NULL);
  self->executor = g_object_ref (executor);
  self->task = g_strdup (task);
  self->chunksize = chunksize;
  /* Deep enough that each worker has chunks queued while the consumer
   * takes results out of another (CPython's map has no bound at all). */
  self->buffersize = buffersize > 0 ? buffersize
                                    : 8 * proc_executor_get_max_workers (executor);
  self->deadline = timeout_usec < 0 ? -1 : g_get_monotonic_time () + timeout_usec;
  if (inputs != NULL)
    {
      self->inputs = g_variant_ref (inputs);
      self->n_inputs = g_variant_n_children (inputs);
      self->inputs_boxed = proc_item_array_is_boxed (inputs);
      if (self->n_inputs > 0 &&
          proc_type_is_fixed_size (g_variant_type_element (g_variant_get_type (inputs))))
        self->input_bytes = g_variant_get_data_as_bytes (inputs);
    }
  self->input_func = input_func;
  self->input_data = user_data;
  self->input_destroy = destroy;

  refill (self);

  return self;
}

/* Moves the outcome of the finished oldest chunk into results/error. */
static void
take_chunk (ProcMapIter *self)
{
  Chunk *chunk = g_queue_pop_head (&self->chunks);
  GError *error = NULL;
  GVariant *value;

  if (chunk->future == NULL)
    {
      self->error = g_steal_pointer (&chunk->error);
      chunk_free (chunk);
      return;
    }

  value = proc_future_result (chunk->future, 0, &error);
  if (value == NULL)
    self->error = error;
  else if (self->chunksize == 1)
    {
      /* A single item: a one-element array. An iterator yields values
       * only; fds sent with one would be lost, so they are an error, as
       * in a chunk (see proc-worker.c). */
      if (proc_future_get_result_fd_list (chunk->future) != NULL)
        self->error = g_error_new (PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT,
                                   PROC_MAP_RESULT_FDS_MESSAGE, self->task);
      else
        self->results = g_variant_ref_sink (proc_item_array_new (&value, 1));
      g_variant_unref (value);
    }
  else
    {
      gboolean failed;
      const char *domain, *message;
      gint code;

      /* The I/O thread made sure the results are an array. */
      g_variant_get (value, "(tvb&si&s)", NULL, &self->results, &failed, &domain, &code, &message);
      if (failed)
        self->error = proc_error_from_wire (domain, code, message);
      g_variant_unref (value);
    }

  if (self->results != NULL)
    {
      self->n_results = g_variant_n_children (self->results);
      self->results_boxed = proc_item_array_is_boxed (self->results);
      self->result_pos = 0;
    }
  chunk_free (chunk);
}

typedef enum {
  STEP_ITEM,
  STEP_END,
  STEP_ERROR,
  STEP_WAIT,
} Step;

/* One non-blocking step of the iteration. */
static Step
step (ProcMapIter  *self,
      GVariant    **item,
      GError      **error)
{
  for (;;)
    {
      Chunk *head;

      if (self->finished)
        return STEP_END;

      if (self->results != NULL)
        {
          if (self->result_pos < self->n_results)
            {
              *item = proc_item_array_get (self->results, self->result_pos++, self->results_boxed);
              return STEP_ITEM;
            }
          g_clear_pointer (&self->results, g_variant_unref);
        }

      if (self->error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&self->error));
          proc_map_iter_close (self);
          return STEP_ERROR;
        }

      refill (self);
      head = g_queue_peek_head (&self->chunks);
      if (head == NULL)
        {
          self->finished = TRUE;
          return STEP_END;
        }

      if (head->future != NULL && !proc_future_is_done (head->future))
        {
          if (self->deadline >= 0 && g_get_monotonic_time () >= self->deadline)
            {
              g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                   "The map did not finish within its timeout");
              proc_map_iter_close (self);
              return STEP_ERROR;
            }
          return STEP_WAIT;
        }

      take_chunk (self);
      refill (self);
    }
}

/**
 * proc_map_iter_next:
 * @self: a map iterator
 * @result: (out) (optional) (nullable) (transfer full): the next result
 * @error: return location for an error
 *
 * Waits for the next result in input order.
 *
 * Returns: %TRUE with @result set; %FALSE with @error set when that item
 *   failed or the map's timeout expired (the iteration then ends); %FALSE
 *   without an error at the end
 */
gboolean
proc_map_iter_next (ProcMapIter  *self,
                    GVariant    **result,
                    GError      **error)
{
  g_return_val_if_fail (PROC_IS_MAP_ITER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (result != NULL)
    *result = NULL;

  for (;;)
    {
      GVariant *item = NULL;
      Chunk *head;
      gint64 timeout = -1;

      switch (step (self, &item, error))
        {
        case STEP_ITEM:
          if (result != NULL)
            *result = item;
          else
            g_variant_unref (item);
          return TRUE;
        case STEP_END:
        case STEP_ERROR:
          return FALSE;
        case STEP_WAIT:
          break;
        }

      head = g_queue_peek_head (&self->chunks);
      if (self->deadline >= 0)
        timeout = MAX (self->deadline - g_get_monotonic_time (), 0);
      proc_future_wait (head->future, timeout);
    }
}

static void async_step (ProcMapIter *self);

static void
async_chunk_done (GObject      *object,
                  GAsyncResult *result,
                  gpointer      data)
{
  g_autoptr(ProcMapIter) self = data;
  g_autoptr(GVariant) value = proc_future_wait_finish (PROC_FUTURE (object), result, NULL);
  gboolean user_cancelled = _proc_async_deadline_user_cancelled (&self->async_wait);

  _proc_async_deadline_clear (&self->async_wait);
  if (user_cancelled)
    {
      GTask *task = g_steal_pointer (&self->async_task);

      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "The wait was cancelled");
      g_object_unref (task);
      return;
    }
  async_step (self);
}

static void
async_step (ProcMapIter *self)
{
  GVariant *item = NULL;
  GError *error = NULL;
  GTask *task;
  Chunk *head;

  switch (step (self, &item, &error))
    {
    case STEP_ITEM:
      task = g_steal_pointer (&self->async_task);
      g_task_return_pointer (task, item, (GDestroyNotify) g_variant_unref);
      g_object_unref (task);
      return;
    case STEP_END:
      task = g_steal_pointer (&self->async_task);
      g_task_return_pointer (task, NULL, NULL);
      g_object_unref (task);
      return;
    case STEP_ERROR:
      task = g_steal_pointer (&self->async_task);
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    case STEP_WAIT:
      break;
    }

  head = g_queue_peek_head (&self->chunks);
  _proc_async_deadline_start (&self->async_wait, g_task_get_cancellable (self->async_task),
                              self->deadline, g_task_get_context (self->async_task));
  proc_future_wait_async (head->future, self->async_wait.cancellable, async_chunk_done,
                          g_object_ref (self));
}

/**
 * proc_map_iter_next_async:
 * @self: a map iterator
 * @cancellable: (nullable): cancels this wait, not the map
 * @callback: (scope async): called with the next result
 * @user_data: data for @callback
 *
 * Waits for the next result without blocking, calling back in the
 * thread-default main context of the thread that calls this. Only one
 * call may be in progress at a time.
 */
void
proc_map_iter_next_async (ProcMapIter         *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (PROC_IS_MAP_ITER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, proc_map_iter_next_async);

  if (self->async_task != NULL)
    {
      g_task_return_new_error (task, PROC_ERROR, PROC_ERROR_PENDING,
                               "Another next_async() is in progress on this iterator");
      g_object_unref (task);
      return;
    }

  self->async_task = task;
  async_step (self);
}

/**
 * proc_map_iter_next_finish:
 * @self: a map iterator
 * @result: the result given to the callback
 * @out_result: (out) (optional) (nullable) (transfer full): the next result
 * @error: return location for an error
 *
 * Finishes [method@MapIter.next_async].
 *
 * Returns: %TRUE with @out_result set; %FALSE with @error set when the item
 *   failed or the map timed out; %FALSE without an error at the end
 */
gboolean
proc_map_iter_next_finish (ProcMapIter   *self,
                           GAsyncResult  *result,
                           GVariant     **out_result,
                           GError       **error)
{
  GVariant *item;

  g_return_val_if_fail (PROC_IS_MAP_ITER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  if (out_result != NULL)
    *out_result = NULL;

  item = g_task_propagate_pointer (G_TASK (result), error);
  if (item == NULL)
    return FALSE;
  if (out_result != NULL)
    *out_result = item;
  else
    g_variant_unref (item);
  return TRUE;
}
