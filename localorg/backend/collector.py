"""Python's cyclic garbage collector paused while a transaction runs.

A flow transaction allocates hundreds of thousands of short-lived containers (rows, interview
variables, statement memos) and leaves no reference cycles behind: reference counting frees
all of it. With the default thresholds the collector still ran 65-74 times in one 200 x 10
transaction, 7-30 ms of CPU, finding nothing (docs/performance.md, fifth pass). Paused, the
allocations still count, so the first collection after the transaction looks at what
survived it (1-3 ms). Process-wide, as every collector setting is: the first transaction to
start pauses it, the last to end restores the state it found.
"""

import gc
import threading
from contextlib import contextmanager

_lock = threading.Lock()
_open = [0, False]  # transactions open in this process; whether the collector was enabled


@contextmanager
def paused():
    with _lock:
        if _open[0] == 0:
            _open[1] = gc.isenabled()
            gc.disable()
        _open[0] += 1
    try:
        yield
    finally:
        with _lock:
            _open[0] -= 1
            if _open[0] == 0 and _open[1]:
                gc.enable()
