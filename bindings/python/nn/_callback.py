"""The base class of callbacks, nn.callbacks.Callback (the Keras
protocol: see nn.callbacks for when each hook is called). In a module of its
own, importing nothing, so that callbacks.py and _tensorboard.py (whose
TensorBoard callbacks.py re-exports) both derive from it without an import
cycle."""


class Callback:
    """Base class; override the hooks you need (see the module docstring
    for when each is called). The batch hooks that are not overridden cost
    nothing: libnn is asked to call back per batch only for a callback
    with a training batch hook of its own."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        # Keras: the base method calls the Keras 2 name
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_batch_begin(self, batch, logs=None):
        """Keras 2's name of on_train_batch_begin."""

    def on_batch_end(self, batch, logs=None):
        """Keras 2's name of on_train_batch_end."""

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass
