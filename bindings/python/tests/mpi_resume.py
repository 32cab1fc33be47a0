"""A data-parallel fit that loses a process, and its resumption
(test_distributed.py runs it under mpirun -n 2):

    mpi_resume.py --epochs N --out FILE              train N epochs, rank 0 saves the weights
    mpi_resume.py --epochs N --die-after K --checkpoint FILE
        rank 0 saves FILE after every epoch (and FILE.epoch, the epochs done);
        rank 1 exits abruptly after epoch K, as a crashed process would
    mpi_resume.py --epochs N --resume FILE --out FILE2
        every rank loads FILE and trains the epochs left

The model has Dropout and BatchNormalization, so an exact resumption needs
the shared generator, the optimizer's state and the running statistics
from the file, and each epoch's per-rank Dropout streams from them.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import nn  # noqa: E402
import nn.distributed as dist  # noqa: E402


class Checkpoint(nn.callbacks.Callback):
    def __init__(self, model, path, die_after, done):
        super().__init__()
        self.net, self.path, self.die_after, self.done = model, path, die_after, done

    def on_epoch_end(self, epoch, logs=None):
        epochs = self.done + epoch + 1
        if self.path and dist.is_main():
            self.net.save(self.path)
            with open(self.path + ".epoch", "w") as f:
                f.write(str(epochs))
        if self.die_after is not None and dist.rank() == 1 and epochs == self.die_after:
            time.sleep(1.0)              # rank 0 writes its checkpoint meanwhile
            os._exit(3)                  # a crash: no MPI_Finalize, no cleanup


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--die-after", type=int)
    parser.add_argument("--checkpoint")
    parser.add_argument("--resume")
    parser.add_argument("--out")
    args = parser.parse_args()
    dist.init()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((512, 10), dtype=np.float32)
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(np.float32)
    done = 0
    if args.resume:
        model = nn.load_model(args.resume)
        with open(args.resume + ".epoch") as f:
            done = int(f.read())
    else:
        model = nn.Sequential([nn.layers.Dense(32, activation="relu", input_dim=10),
                               nn.layers.BatchNormalization(), nn.layers.Dropout(0.3),
                               nn.layers.Dense(1, activation="sigmoid")], seed=11)
        model.compile(optimizer=nn.optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy",
                      metrics=["accuracy"])
    epochs = args.epochs - done
    callback = Checkpoint(model, args.checkpoint, args.die_after, done)
    model.fit(x, y, batch_size=64, epochs=epochs, verbose=0, callbacks=[callback])
    if args.out and dist.is_main():
        np.savez(args.out, *model.get_weights())
    return 0


if __name__ == "__main__":
    sys.exit(main())
