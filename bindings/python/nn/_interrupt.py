"""Ctrl-C during a long call into libnn (a fit).

While the main thread is inside nn_model_fit, Python runs no bytecode, so
its SIGINT handler (which raises KeyboardInterrupt) waits for the call to
return: minutes, for a long fit. ``stop_on_interrupt`` gives the call a
stop flag (nn_fit_options.stop_flag, which libnn reads before each batch)
and has it set when SIGINT arrives: Python's own C-level signal handler
writes the signal's number to the "wakeup fd" (signal.set_wakeup_fd), a
pipe that a watcher thread reads - the watcher runs while the main thread
is in C (ctypes released the GIL) and sets the flag. libnn then returns
between two batches, and Python's handler raises KeyboardInterrupt as soon
as the main thread is back in Python: the fit stops within one batch, and
the model keeps the weights of the last batch it ran.

It acts only on the main thread (the only one Python's handlers run on)
and only while SIGINT has Python's default handler (a program with its own
handler decides itself what Ctrl-C means). A wakeup fd set by someone else
(asyncio) is restored afterwards, and the bytes that arrive meanwhile are
passed on to it. The watcher thread and its pipe are made once and kept.
"""

import ctypes
import os
import signal
import threading

_lock = threading.Lock()
_pipe = None              # (read end, write end) of the watcher's pipe
_flags = []               # the stop flags of the calls now watched
_forward = [-1]           # a previous wakeup fd, which also gets the bytes


def _watch(read_fd):
    while True:
        try:
            data = os.read(read_fd, 512)
        except OSError:
            return
        if not data:
            return
        if signal.SIGINT in data:
            for flag in list(_flags):
                flag.value = 1
        target = _forward[0]
        if target >= 0:
            try:
                os.write(target, data)
            except OSError:
                pass


def _start_watcher():
    global _pipe
    with _lock:
        if _pipe is None:
            read_fd, write_fd = os.pipe()
            os.set_blocking(write_fd, False)
            threading.Thread(target=_watch, args=(read_fd,), name="nn-interrupt-watcher",
                             daemon=True).start()
            _pipe = (read_fd, write_fd)
    return _pipe[1]


class stop_on_interrupt:
    """``with stop_on_interrupt() as flag:`` a ctypes c_int that becomes 1
    when Ctrl-C (SIGINT) arrives during the block (see the module's
    docstring); 0 throughout when the block cannot be watched."""

    def __enter__(self):
        self.flag = ctypes.c_int(0)
        self.previous = None
        self.active = False     # whether SIGINT is watched for this block
        if (threading.current_thread() is not threading.main_thread()
                or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
            return self.flag
        write_fd = _start_watcher()
        try:
            previous = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        except (ValueError, OSError):
            return self.flag
        self.previous = previous
        _forward[0] = previous if previous != write_fd else -1
        _flags.append(self.flag)
        self.active = True
        return self.flag

    def __exit__(self, *exc):
        if self.previous is not None:
            _flags.remove(self.flag)
            _forward[0] = -1
            signal.set_wakeup_fd(self.previous)
        return False
