/* test-maps.c: which file backs an address, from /proc/self/maps
 *
 * Tests tell a payload that crossed as the sender's own memfd from one
 * that was copied by the inode (and name) of the file it is mapped from.
 * Built into the test programs and into the task module, which have no
 * library in common but libprocexec.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>

#include "test-maps.h"

/* The inode of the file mapped at @addr, and in @path (nullable) its name
 * as the kernel shows it ("/memfd:NAME (deleted)" for a memfd). Aborts if
 * no file is mapped there. */
guint64
test_mapping_inode (gconstpointer   addr,
                    char          **path)
{
  g_autofree char *maps = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL))
    g_error ("cannot read /proc/self/maps");
  lines = g_strsplit (maps, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      guint64 start, end, inode;
      int name_at = 0;

      if (sscanf (lines[i], "%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x %*s %*s %*s %" G_GINT64_MODIFIER "u %n",
                  &start, &end, &inode, &name_at) == 3 &&
          start <= (guint64) (guintptr) addr && (guint64) (guintptr) addr < end && inode != 0)
        {
          if (path != NULL)
            *path = g_strdup (lines[i] + name_at);
          return inode;
        }
    }
  g_error ("no file is mapped at %p", addr);
}
