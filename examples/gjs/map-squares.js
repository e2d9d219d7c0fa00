// map-squares.js: executor.map(square, range(10), chunksize=3)
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The Python original:
//
//     def square(n):
//         return n * n
//
//     with ProcessPoolExecutor() as executor:
//         for result in executor.map(square, range(10), chunksize=3):
//             print(result)

import Procexec from 'gi://Procexec';

export function square(n) {
    return n * n;
}

if (!Procexec.isWorker()) {
    const executor = new Procexec.ProcessPool({module: import.meta.url});
    const range = Array.from({length: 10}, (_, i) => i);

    // results in input order; chunks of 3 inputs travel to a worker together
    for await (const result of executor.map('square', range, {chunksize: 3}))
        print(result);

    await executor.shutdown();
}
