#!/usr/bin/python3
# compare-with-cpython.py: run a Python example on procexec and the same
# program on CPython's concurrent.futures, and check that both print the
# same.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: compare-with-cpython.py [options] EXAMPLE.py 'ORIGINAL IMPORT LINE'
#
# The examples are the seeds' programs with only their import line changed
# to procexec. This script puts the original import line back (in a copy),
# runs both programs with /usr/bin/python3, and compares their output:
#   --ordered          line by line, in order (the programs are sequential);
#                      otherwise as multisets of lines, plus the same last
#                      line (lines printed by parallel workers interleave)
#   --tokens REGEX     compare the multisets of the matches of REGEX in the
#                      whole output, and the last match, instead of lines:
#                      threads or processes that print at once can mix
#                      their lines' text and newlines (CPython's workers
#                      do), so lines are not always whole
#   --pid REGEX        a regex whose first group is a process id: it must be
#                      the pid of another process than the program itself
#                      (a worker printed it), and it is compared as "<pid>"
# Both programs must exit with status 0; the procexec one must write nothing
# to stderr.

import argparse
import os
import re
import subprocess
import sys
import tempfile

TIMEOUT = float(os.environ.get('CHECK_OUTPUT_TIMEOUT', '120'))


def run(path, cwd):
    proc = subprocess.Popen([sys.executable, path], cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            errors='replace')
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        err += '\n[did not finish within %g s]' % TIMEOUT
        return proc.pid, 124, out, err
    return proc.pid, proc.returncode, out, err


def normalize(lines, pid_regex, own_pid, problems, who):
    if pid_regex is None:
        return lines
    def replace(m):
        if int(m.group(1)) == own_pid:
            problems.append('%s: "%s" was printed by the program itself, not a worker'
                            % (who, m.group(0)))
        return m.group(0)[:m.start(1) - m.start(0)] + '<pid>' + m.group(0)[m.end(1) - m.start(0):]

    return [pid_regex.sub(replace, line) for line in lines]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--ordered', action='store_true')
    parser.add_argument('--pid')
    parser.add_argument('--tokens')
    parser.add_argument('example')
    parser.add_argument('original_import')
    opts = parser.parse_args()
    pid_regex = re.compile(opts.pid) if opts.pid else None

    with open(opts.example) as f:
        source = f.read().splitlines(keepends=True)
    import_lines = [i for i, line in enumerate(source)
                    if re.match(r'(import procexec\b|from procexec\b)', line)]
    if len(import_lines) != 1:
        print('FAIL: %s must have exactly one procexec import line' % opts.example)
        return 1
    original = list(source)
    original[import_lines[0]] = opts.original_import + '\n'

    problems = []
    with tempfile.TemporaryDirectory(prefix='procexec-example-') as d:
        original_path = os.path.join(d, os.path.basename(opts.example))
        with open(original_path, 'w') as f:
            f.writelines(original)
        results = {
            'procexec': run(os.path.abspath(opts.example), d),
            'CPython': run(original_path, d),
        }

    lines = {}
    for who, (pid, status, out, err) in results.items():
        print('---- %s: exit status %d' % (who, status))
        sys.stdout.write(out)
        if err:
            print('---- %s: stderr' % who)
            sys.stdout.write(err)
        if status != 0:
            problems.append('%s: exit status %d' % (who, status))
        lines[who] = normalize(out.splitlines(), pid_regex, pid, problems, who)
    if results['procexec'][3]:
        problems.append('procexec: the program wrote to stderr')

    ours, theirs = lines['procexec'], lines['CPython']
    if opts.tokens:
        ours = re.findall(opts.tokens, '\n'.join(ours))
        theirs = re.findall(opts.tokens, '\n'.join(theirs))
    if opts.ordered:
        if ours != theirs:
            problems.append('the output differs from CPython\'s')
    else:
        if sorted(ours) != sorted(theirs):
            problems.append('the lines differ from CPython\'s')
        elif ours and ours[-1] != theirs[-1]:
            problems.append('the last line differs from CPython\'s')
    if not ours:
        problems.append('no output')

    if problems:
        print('\nFAIL: %s:' % opts.example)
        for p in problems:
            print('  ' + p)
        return 1
    print('\nOK: %s prints what the CPython original prints' % os.path.basename(opts.example))
    return 0


if __name__ == '__main__':
    sys.exit(main())
