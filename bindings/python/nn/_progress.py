"""fit's progress output, as Keras prints it.

verbose=1 on a terminal: ``Epoch 3/10`` then a bar redrawn in place at most
ten times a second from libnn's per-batch callback,

    312/1875 [====>.........................] - ETA: 4s - loss: 0.2345

ended by the epoch's line with its time and every log (validation ones
included):

    1875/1875 [==============================] - 5s 3ms/step - loss: 0.2101 - val_loss: 0.1984

verbose=2, or verbose=1 when stdout is not a terminal (a log file, a CI
job, a notebook's captured output): one line per epoch, no per-batch call
at all (Keras's verbose=2).
"""

import sys
import time

BAR_WIDTH = 30
REDRAW_SECONDS = 0.1


def bar_wanted(verbose, stream=None):
    """Whether fit draws the in-epoch bar: verbose=1 on a terminal."""
    stream = sys.stdout if stream is None else stream
    if verbose != 1:              # (True == 1: verbose=True draws it too)
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def format_logs(logs):
    return "".join(f" - {k}: {v:.4g}" if k == "learning_rate" else f" - {k}: {v:.4f}"
                   for k, v in logs.items())


def format_eta(seconds):
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if seconds >= 60:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds}s"


def bar(done, total):
    """The [====>....] part for `done` of `total` steps."""
    if total <= 0:
        return "[" + "." * BAR_WIDTH + "]"
    filled = min(int(BAR_WIDTH * done / total), BAR_WIDTH)
    head = "=" * (filled - 1) + (">" if done < total else "=") if filled else ""
    return "[" + head + "." * (BAR_WIDTH - filled) + "]"


class ProgressBar:
    """One epoch's bar at a time (Keras's Progbar, verbose=1)."""

    def __init__(self, epochs, stream=None, clock=time.perf_counter):
        self.epochs = epochs
        self.stream = sys.stdout if stream is None else stream
        self.clock = clock
        self.start = self.last_draw = 0.0
        self.width = 0          # characters of the last line drawn (to blank its rest)
        self.draws = 0
        self.header = ""        # the epoch's header line, until the first drawing

    def begin_epoch(self, epoch):
        """Starts the epoch's clock; its header line ("Epoch 3/10") is
        written with the first drawing, so an epoch that never runs (early
        stopping decided after the previous one) prints nothing."""
        self.header = f"Epoch {epoch + 1}/{self.epochs}\n"
        self.start = self.clock()
        self.last_draw = -1.0
        self.width = 0

    def batch(self, done, total, logs):
        """After batch `done` (counting from 1) of `total` (0: unknown, a
        generator's epoch): redraw if the last drawing is at least
        REDRAW_SECONDS old (the last batch waits for end_epoch, which adds
        validation logs)."""
        now = self.clock()
        if (total and done >= total) or now - self.last_draw < REDRAW_SECONDS:
            return
        self.last_draw = now
        elapsed = now - self.start
        if not total:
            self._draw(f"{done}/Unknown - {elapsed:.0f}s{format_logs(logs)}")
            return
        eta = elapsed / done * (total - done) if done else 0.0
        digits = len(str(total))
        self._draw(f"{done:>{digits}}/{total} {bar(done, total)} - ETA: {format_eta(eta)}{format_logs(logs)}")

    def end_epoch(self, done, total, logs):
        """The epoch's last line: `done` batches of `total` (fewer when a
        callback stopped it; total 0 when unknown), its time and logs."""
        elapsed = self.clock() - self.start
        per_step = elapsed / done if done else 0.0
        step = f"{per_step * 1e3:.0f}ms/step" if per_step >= 1e-3 else f"{per_step * 1e6:.0f}us/step"
        total = total or done
        digits = len(str(total))
        self._draw(f"{done:>{digits}}/{total} {bar(done, total)} - {elapsed:.0f}s {step}{format_logs(logs)}")
        self.stream.write("\n")
        self.stream.flush()

    def _draw(self, line):
        if self.header:
            self.stream.write(self.header)
            self.header = ""
        pad = " " * max(self.width - len(line), 0)
        self.stream.write("\r" + line + pad)
        self.stream.flush()
        self.width = len(line)
        self.draws += 1
