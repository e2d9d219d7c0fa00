# Seed 001 ("Python's concurrent.futures module"), "Using
# ProcessPoolExecutor", on procexec: the seed's code with only its import
# line changed, from
#     import concurrent.futures
# `import procexec as concurrent` makes `concurrent.futures` procexec.futures:
# concurrent.futures itself, with procexec's ProcessPoolExecutor.
#
# Like the seed, it has no `if __name__ == '__main__':` guard: a procexec
# worker imports this script as __mp_main__ (to find task()) and stops where
# the script creates its pool, so the rest runs only in the parent.
import procexec as concurrent

def task(n):
    print(f'Started task {n}')
    # Perform some CPU-intensive operation here
    print(f'Completed task {n}')

with concurrent.futures.ProcessPoolExecutor() as executor:
    tasks = [executor.submit(task, i) for i in range(5)]

    for future in concurrent.futures.as_completed(tasks):
        # Wait for each task to complete
        pass

print('All tasks completed')
