# Seed 002 ("Python ProcessPoolExecutor Tutorial", Elliot Forbes), on
# procexec: the seed's code with only its import line changed, from
#     from concurrent.futures import ProcessPoolExecutor
#
# main() never shuts the executor down: as with CPython, the program still
# waits for the two tasks before it exits.
from procexec import ProcessPoolExecutor
import os

def task():
    print("Executing our Task on Process {}".format(os.getpid()))

def main():
    executor = ProcessPoolExecutor(max_workers=3)
    task1 = executor.submit(task)
    task2 = executor.submit(task)

if __name__ == '__main__':
    main()
