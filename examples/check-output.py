#!/usr/bin/python3
# check-output.py: run an example and check that it prints what the Python
# program it was translated from prints.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: check-output.py NAME PROGRAM [ARGS...]
#
# EXPECTED[NAME] lists "chains": each chain is a list of lines that must
# appear in the output in that order (other lines may come between them).
# Separate chains are checked independently, since lines printed by parallel
# workers may interleave. In an expected line:
#   <pid>   a process id; it must not be the example's own pid, since the
#           line is printed by a worker
#   <num>   a number such as 12, 0.53 or 1.9
#   <any>   anything
# Everything else is literal, and each line must match a whole output line.
# The example must exit with status 0, and neither its stdout nor its stderr
# may contain a GLib warning or critical.

import os
import re
import subprocess
import sys

EXPECTED = {
    # seed 003, "demonstration with the process pool life-cycle"
    'lifecycle': [
        ['Waiting for the new process to finish...',
         'Task running in a worker process',
         'All done'],
    ],
    # seed 001, ProcessPoolExecutor + as_completed
    'as-completed': (
        [['Started task %d' % n, 'Completed task %d' % n, 'All tasks completed']
         for n in range(5)]
    ),
    # seed 002, ProcessPoolExecutor(max_workers=3), two tasks
    'max-workers': [
        ['Executing our Task on Process <pid>',
         'Executing our Task on Process <pid>'],
    ],
    # executor.map(square, range(10), chunksize=3)
    'map-squares': [
        [str(n * n) for n in range(10)],
    ],
    # seed 000, handling exceptions
    'exceptions': [
        ['5.0',
         'Task failed: division by zero',
         'exception(): division by zero',
         'Unknown task: <any>'],
    ],
    # CPU-bound: run by the test with LIMIT=200000
    'primes': [
        ['17984 primes below 200000',
         '1 worker: <num> s',
         '<num> workers: <num> s',
         'speed-up: <num>x'],
    ],
    # the main demo
    'demo': [
        ['1. submit() and result()',
         '   square(7) = 49, computed by worker <pid>',
         '2. map()<any>',
         '   0 1 4 9 16 25 36 49 64 81',
         '3. as_completed()<any>',
         '   sleep(0.2 s) done',
         '   sleep(0.4 s) done',
         '   sleep(0.6 s) done',
         '4. a crash<any>',
         '   crash(): failed as expected, the worker died <any>',
         '   square(8) = 64, computed by worker <pid>',
         '5. a task<any>',
         '   divide(1, 0): division by zero (demo-error-quark, code 1)',
         '6. progress<any>',
         '   progress <num>%: step <num> of 5',
         '   long_job() = "5 steps done"',
         '7. interrupt()<any>',
         '   spin(): <any>',
         '8. shutdown()<any>',
         '   <num> tasks completed, 0 workers left',
         'Done.'],
    ],
}

PLACEHOLDERS = {
    '<pid>': r'(?P<pid{}>[0-9]+)',
    '<num>': r'[0-9]+(?:\.[0-9]+)?',
    '<any>': r'.*',
}

FORBIDDEN = re.compile(r'-(CRITICAL|WARNING) \*\*|ERROR: AddressSanitizer|'
                       r'runtime error:|LeakSanitizer')


def to_regex(line):
    out = []
    n_pid = 0
    for part in re.split(r'(<pid>|<num>|<any>)', line):
        if part == '<pid>':
            out.append(PLACEHOLDERS[part].format(n_pid))
            n_pid += 1
        elif part in PLACEHOLDERS:
            out.append(PLACEHOLDERS[part])
        else:
            out.append(re.escape(part))
    return re.compile(''.join(out) + r'\Z')


def check_chain(chain, lines, own_pid):
    pos = 0
    for expected in chain:
        regex = to_regex(expected)
        while pos < len(lines):
            m = regex.match(lines[pos])
            pos += 1
            if m is None:
                continue
            for key, value in m.groupdict().items():
                if key.startswith('pid') and int(value) == own_pid:
                    return ('"%s" was printed by the example itself '
                            '(pid %d), not by a worker' % (lines[pos - 1],
                                                          own_pid))
            break
        else:
            return 'missing (in this order): "%s"' % expected
    return None


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in EXPECTED:
        sys.stderr.write('usage: check-output.py {%s} PROGRAM [ARGS...]\n'
                         % ','.join(sorted(EXPECTED)))
        return 2
    name = sys.argv[1]
    timeout = float(os.environ.get('CHECK_OUTPUT_TIMEOUT', '120'))

    proc = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, errors='replace')
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        sys.stdout.write(out)
        sys.stderr.write(err)
        print('FAIL: %s did not finish within %g s' % (name, timeout))
        return 1

    sys.stdout.write(out)
    sys.stderr.write(err)
    sys.stdout.flush()
    sys.stderr.flush()

    problems = []
    if proc.returncode != 0:
        problems.append('exit status %d' % proc.returncode)
    for stream, text in (('stdout', out), ('stderr', err)):
        m = FORBIDDEN.search(text)
        if m:
            problems.append('%s contains "%s"' % (stream, m.group(0)))
    lines = out.splitlines()
    for chain in EXPECTED[name]:
        problem = check_chain(chain, lines, proc.pid)
        if problem:
            problems.append(problem)

    if problems:
        print('\nFAIL: %s:' % name)
        for p in problems:
            print('  ' + p)
        return 1
    print('\nOK: %s prints what the Python original prints' % name)
    return 0


if __name__ == '__main__':
    sys.exit(main())
