"""Loading saved models: nn.load_model (also nn.models.load_model).

A model file is a safetensors file (https://github.com/huggingface/safetensors)
written by libnn (Sequential.save, save_weights, to_bytes): the weights are
tensors named as PyTorch names the state_dict of the equivalent
torch.nn.Sequential, and the rest of the model is JSON in the header's
``__metadata__`` (see include/nn.h, "Saving and loading").

Python never parses a model file. load_model gives the file's bytes to
libnn (nn_model_load_from_buffer), which treats them as untrusted and
refuses anything wrong with nn.InvalidFileError and a message that says
what, and builds the model: weights, layers, compile settings, optimizer
state. Python then asks libnn for the model's configuration
(nn_model_config: the architecture and compile objects of the file's
metadata, and the layer names, as JSON) and builds the Python side from it:
the layer objects, the loss, optimizer, metric and schedule objects and the
seed (nn._config). The libnn model is not compiled again (that would reset
the optimizer's state): training continues exactly where the saved model
stopped.

Layer names are not stored in the file: a loaded model's layers get the
default names libnn gives them ('dense', 'dense_1', ...), and the model the
name 'sequential'.

Imports go one way: this module imports models (where load_model and
Sequential._from_config live), and models imports neither this module nor
anything that imports it.
"""

from .models import load_model

__all__ = ["load_model"]
