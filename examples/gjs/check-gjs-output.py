#!/usr/bin/python3
# check-gjs-output.py: check-output.py for the GJS examples
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: check-gjs-output.py NAME PROGRAM [ARGS...]
#
# The GJS examples print what the C ones (and their Python originals)
# print, so they are checked against check-output.py's EXPECTED, with its
# rules (<pid> must be another process than the example, no GLib warning
# or critical, exit status 0). This adds the expectations of the examples
# that have no C counterpart.

import importlib.util
import os
import sys

GJS_EXPECTED = {
    # seed 000: task_future = executor.submit(my_function, arg1, arg2,
    # kwarg1=value1); result = task_future.result()
    'submit-result': [
        ['Submitted myFunction(6, 7, {kwarg1: 100})',
         'Result: 142, computed by worker <pid>'],
    ],
}


def load_check_output():
    sys.dont_write_bytecode = True
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'check-output.py')
    spec = importlib.util.spec_from_file_location('check_output', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == '__main__':
    check_output = load_check_output()
    for name in GJS_EXPECTED:
        assert name not in check_output.EXPECTED, name
    check_output.EXPECTED.update(GJS_EXPECTED)
    sys.exit(check_output.main())
