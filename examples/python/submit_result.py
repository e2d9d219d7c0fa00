# Seed 000 ("Python's concurrent.futures.ProcessPoolExecutor"), on procexec.
#
# The seed gives fragments, not a program: its own lines are below, in its
# order, with only the import line changed, from
#     import concurrent.futures
# The lines marked "(added)" make the fragments run: the seed leaves out
# my_function and its arguments, the body of its except clause, and a print
# to show the result; a second submit shows the exception being handled.
import procexec as concurrent


def my_function(arg1, arg2, kwarg1=1):          # (added)
    return (arg1 + arg2) / kwarg1               # (added)


arg1, arg2, value1 = 10, 5, 3                   # (added)

with concurrent.futures.ProcessPoolExecutor() as executor:
    # Execute tasks concurrently using the executor
    task_future = executor.submit(my_function, arg1, arg2, kwarg1=value1)
    result = task_future.result()
    print(result)                                # (added)

    task_future = executor.submit(my_function, arg1, arg2, kwarg1=0)  # (added)
    try:
        result = task_future.result()
    except Exception as e:
        # Handle the exception
        print(f'Task failed: {type(e).__name__}: {e}')   # (added)
