/* proc-async-deadline.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "proc-async-deadline-private.h"

static void
user_cancelled (GCancellable *cancellable,
                gpointer      data)
{
  g_cancellable_cancel (G_CANCELLABLE (data));
}

static gboolean
deadline_reached (gpointer data)
{
  g_cancellable_cancel (G_CANCELLABLE (data));
  return G_SOURCE_REMOVE;
}

/* @deadline is monotonic time, -1 for none; the timer runs in @context. */
void
_proc_async_deadline_start (ProcAsyncDeadline *self,
                            GCancellable      *user_cancellable,
                            gint64             deadline,
                            GMainContext      *context)
{
  self->cancellable = g_cancellable_new ();
  if (user_cancellable != NULL)
    {
      self->user_cancellable = g_object_ref (user_cancellable);
      self->user_cancel_id = g_cancellable_connect (user_cancellable, G_CALLBACK (user_cancelled),
                                                    g_object_ref (self->cancellable),
                                                    g_object_unref);
    }
  if (deadline >= 0)
    {
      gint64 remaining = MAX (deadline - g_get_monotonic_time (), 0);

      /* Rounded up: a timer that fires early would find time left. */
      self->timeout = g_timeout_source_new (remaining / 1000 + (remaining % 1000 ? 1 : 0));
      g_source_set_callback (self->timeout, deadline_reached,
                             g_object_ref (self->cancellable), g_object_unref);
      g_source_attach (self->timeout, context);
    }
}

gboolean
_proc_async_deadline_user_cancelled (ProcAsyncDeadline *self)
{
  return self->user_cancellable != NULL && g_cancellable_is_cancelled (self->user_cancellable);
}

void
_proc_async_deadline_clear (ProcAsyncDeadline *self)
{
  if (self->timeout != NULL)
    {
      g_source_destroy (self->timeout);
      g_clear_pointer (&self->timeout, g_source_unref);
    }
  if (self->user_cancel_id != 0)
    g_cancellable_disconnect (self->user_cancellable, self->user_cancel_id);
  self->user_cancel_id = 0;
  g_clear_object (&self->user_cancellable);
  g_clear_object (&self->cancellable);
}
