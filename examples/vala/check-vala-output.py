#!/usr/bin/python3
# check-vala-output.py: ../check-output.py, plus what the Vala-only examples
# print. The Vala translations of the seed examples print what their C
# translations print, and are checked against the same expectations.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: check-vala-output.py NAME PROGRAM [ARGS...]

import importlib.util
import os
import sys

sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = importlib.util.spec_from_file_location(
    'check_output', os.path.join(HERE, os.pardir, 'check-output.py'))
check_output = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(check_output)

check_output.EXPECTED.update({
    # seed 000: task_future = executor.submit(my_function, arg1, arg2,
    # kwarg1=value1); result = task_future.result()
    'vala-submit-result': [
        ['2 + 3 = 5 (sum)',
         '(computed by worker <pid>)'],
    ],
    # demo.vala: tasks in Vala, awaited with yield
    'vala-demo': [
        ['1. yield submit_async()',
         '   square(7) = 49',
         '2. three tasks, yield next_async() as they complete',
         '   4 + 9 + 16 = 29',
         "3. a task's own error",
         '   divide(1, 0): division by zero '
         '(MathError.DIVISION_BY_ZERO, math-error-quark)',
         '4. an error of the pool',
         '   cube(3): Procexec.Error.UNKNOWN_TASK: No task named “cube” <any>',
         '5. progress, delivered in the main loop',
         '    33%: step 1 of 3',
         '    67%: step 2 of 3',
         '   100%: step 3 of 3',
         '   count_up(3) = "3 steps done"',
         '6. yield shutdown_async()',
         '   <num> tasks completed, 0 workers left',
         'Done.'],
    ],
})

if __name__ == '__main__':
    sys.exit(check_output.main())
