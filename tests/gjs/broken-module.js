// broken-module.js: a module whose import fails (test-pool.js checks that
// the pool reports it)
//
// SPDX-License-Identifier: LGPL-2.1-or-later

export function never() {
    return 'unreachable';
}

throw new Error('this module refuses to load');
