#!/usr/bin/python3
# check-vapi.py: the shape of the generated procexec-1.vapi.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: check-vapi.py PATH/procexec-1.vapi
#
# test-vala-bindings.vala compiles against the VAPI, so most of its shape is
# checked by the compiler; this checks what compiling does not: which
# properties go through their C accessors and which through g_object_get()
# ([NoAccessorMethod]), that the accessor methods are also there, and that
# nothing async or nullable was lost. Prints one line per problem; exits 1
# if there is any.

import re
import sys

# Properties whose C getter is not get_<name>, or that have none: Vala 0.56
# reads these with g_object_get() (as gtk4.vapi does for Gtk.Widget.has_focus).
NO_ACCESSOR = {
    ('Executor', 'broken'),               # getter is proc_executor_is_broken()
    ('Executor', 'worker_max_rss'),       # construct-only, no C getter
    ('Executor', 'worker_memory_limit'),  # construct-only, no C getter
}

PROPERTIES = {
    'Executor': {
        'broken': 'bool { get; }',
        'cancel_grace': 'int64 { get; set construct; }',
        'idle_timeout': 'int64 { get; set construct; }',
        'initargs': 'GLib.Variant? { get; construct; }',
        'initializer': 'string? { get; construct; }',
        'max_tasks_per_child': 'uint { get; construct; }',
        'max_workers': 'uint { get; set construct; }',
        'modules': 'string[]? { get; construct; }',
        'n_completed': 'uint64 { get; }',
        'n_pending': 'uint { get; }',
        'n_running': 'uint { get; }',
        'n_workers': 'uint { get; }',
        'task_timeout': 'int64 { get; set construct; }',
        'worker_argv': 'string[] { get; construct; }',
        'worker_max_rss': 'uint64 { get; construct; }',
        'worker_memory_limit': 'uint64 { get; construct; }',
    },
    'Future': {
        'state': 'Procexec.FutureState { get; }',
        'task_name': 'string { get; }',
        'worker_pid': 'int { get; }',
    },
}

ASYNC = [
    ('Executor', 'public async GLib.Variant submit_async (string task, GLib.Variant? args, '
                 'GLib.Cancellable? cancellable = null) throws GLib.Error;'),
    ('Executor', 'public async bool shutdown_async (bool cancel_futures, '
                 'GLib.Cancellable? cancellable = null) throws GLib.Error;'),
    ('Future', 'public async GLib.Variant wait_async (GLib.Cancellable? cancellable = null) '
               'throws GLib.Error;'),
    ('AsCompleted', 'public async Procexec.Future? next_async (GLib.Cancellable? cancellable = null) '
                    'throws GLib.Error;'),
    ('CompletionQueue', 'public async Procexec.Future? next_async (GLib.Cancellable? cancellable = null) '
                        'throws GLib.Error;'),
    ('MapIter', 'public async bool next_async (GLib.Cancellable? cancellable = null, '
                'out GLib.Variant? out_result) throws GLib.Error;'),
]

OTHER = [
    ('MapIter', 'public bool next (out GLib.Variant? result) throws GLib.Error;'),
    ('Worker', 'public void register_task (string name, owned Procexec.TaskFunc func);'),
    ('Future', 'public void add_done_callback (owned Procexec.FutureDoneFunc callback);'),
    ('Future', 'public signal void progress (double fraction, GLib.Variant? detail);'),
    ('Executor', 'public Executor.self_exec (uint max_workers);'),
]

DELEGATES = [
    # user_data after (task, args), before the GError**
    '[CCode (cheader_filename = "procexec.h", instance_pos = 2.9)]\n'
    '\tpublic delegate GLib.Variant? TaskFunc (Procexec.Task task, GLib.Variant args) '
    'throws GLib.Error;',
    '[CCode (cheader_filename = "procexec.h", instance_pos = 1.9)]\n'
    '\tpublic delegate void FutureDoneFunc (Procexec.Future future);',
    '[CCode (cheader_filename = "procexec.h", instance_pos = 0.9)]\n'
    '\tpublic delegate GLib.Variant? MapInputFunc () throws GLib.Error;',
]

ERROR_CODES = ['FAILED', 'SHUTDOWN', 'BROKEN', 'WORKER_DIED', 'TASK_TIMEOUT',
               'UNKNOWN_TASK', 'INVALID_ARGUMENT', 'PROTOCOL', 'PENDING', 'SPAWN']


def classes(text):
    """Maps each class name to the text of its body."""
    out = {}
    for m in re.finditer(r'public sealed class (\w+) : GLib\.Object \{\n(.*?)\n\t\}\n',
                         text, re.S):
        out[m.group(1)] = m.group(2)
    return out


def main():
    if len(sys.argv) != 2:
        sys.stderr.write('usage: check-vapi.py procexec-1.vapi\n')
        return 2
    with open(sys.argv[1], encoding='utf-8') as f:
        text = f.read()
    problems = []

    if not re.search(r'^namespace Procexec \{$', text, re.M):
        problems.append('the namespace is not "Procexec" (is Procexec-1.metadata read?)')
    m = re.search(r'cprefix = "PROC_ERROR_", type_id = "proc_error_get_type \(\)"\)\]\n'
                  r'\tpublic errordomain Error \{\n(.*?)\n\t\}', text, re.S)
    if m is None:
        problems.append('no "public errordomain Error" for ProcError')
    else:
        codes = re.findall(r'^\t\t([A-Z_]+)[,;]', m.group(1), re.M)
        if codes != ERROR_CODES:
            problems.append('Error codes %s, expected %s' % (codes, ERROR_CODES))
        if 'public static GLib.Quark quark ();' not in m.group(1):
            problems.append('Error has no quark ()')

    body = classes(text)
    for cls, props in PROPERTIES.items():
        if cls not in body:
            problems.append('no class %s' % cls)
            continue
        for name, decl in props.items():
            pattern = (r'(\t\t\[NoAccessorMethod\]\n)?\t\tpublic %s %s\n'
                       % (re.escape(decl.split(' {')[0]),
                          re.escape(name + ' {' + decl.split(' {')[1])))
            pm = re.search(pattern, body[cls] + '\n')
            if pm is None:
                problems.append('%s.%s is not the property "%s"' % (cls, name, decl))
                continue
            no_accessor = pm.group(1) is not None
            if no_accessor != ((cls, name) in NO_ACCESSOR):
                problems.append('%s.%s: [NoAccessorMethod] %s'
                                % (cls, name, 'unexpected' if no_accessor else 'missing'))
            # a property read through a C getter keeps the getter method too
            if (cls, name) not in NO_ACCESSOR and \
                    not re.search(r'\bget_%s \(\);' % name, body[cls]):
                problems.append('%s.get_%s () is missing' % (cls, name))

    for cls, decl in ASYNC + OTHER:
        if decl not in body.get(cls, ''):
            problems.append('%s lacks: %s' % (cls, decl))
    for decl in DELEGATES:
        if decl not in text:
            problems.append('delegate differs from: %s' % decl.replace('\n\t', ' '))

    # no async begin without its finish merged into it
    for leftover in re.findall(r'public \w[\w.?]* (\w+_finish) \(', text):
        problems.append('%s was not merged into an async method' % leftover)

    for p in problems:
        print('FAIL: ' + p)
    if not problems:
        print('OK: %s has the expected shape' % sys.argv[1])
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
