// procexec-gjs-worker.js: the worker program of Procexec.ProcessPool
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A ProcessPool starts `gjs -m procexec-gjs-worker.js MODULE-URL` for each
// worker. This script imports the module, registers each of its exported
// functions as a task under its export name, and serves the executor
// (Procexec.Worker.serve()) until it is told to exit. The work is done by
// the Procexec override (overrides/Procexec.js), which the worker finds on
// the same search path as the parent did ($GJS_PATH, $XDG_DATA_DIRS).
//
// No `await` may come before the call below: it must run during the
// module's own evaluation, so that tasks run from a main-loop source and
// async tasks can settle (see runUntilSettled() in the override).

import Procexec from 'gi://Procexec';
import System from 'system';

if (typeof Procexec._gjsWorkerMain !== 'function') {
    printerr('procexec-gjs-worker.js: the GJS override of Procexec (overrides/Procexec.js) ' +
        'was not loaded: install procexec, or put its folder on GJS_PATH (meson devenv does)');
    System.exit(2);
}

const status = Procexec._gjsWorkerMain(System.programArgs[0], url => import(url));
System.exit(status);
