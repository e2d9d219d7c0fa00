// unguarded-module.js: a program that creates its pool at the top level
// without `if (!Procexec.isWorker())`; in a worker that would start workers
// of its own, so the pool refuses (test-pool.js checks it)
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import Procexec from 'gi://Procexec';

export function square(n) {
    return n * n;
}

const pool = new Procexec.ProcessPool({module: import.meta.url, maxWorkers: 1});
export default pool;
