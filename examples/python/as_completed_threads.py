# Seed 001 ("Python's concurrent.futures module"), "Using
# ThreadPoolExecutor", with only its import line changed, from
#     import concurrent.futures
# procexec.futures is the whole concurrent.futures module (only its
# ProcessPoolExecutor is procexec's), so code using the thread pool runs
# unchanged too.
import procexec as concurrent

def task(n):
    print(f'Started task {n}')
    # Perform some time-consuming operation here
    print(f'Completed task {n}')

with concurrent.futures.ThreadPoolExecutor() as executor:
    tasks = [executor.submit(task, i) for i in range(5)]

    for future in concurrent.futures.as_completed(tasks):
        # Wait for each task to complete
        pass

print('All tasks completed')
