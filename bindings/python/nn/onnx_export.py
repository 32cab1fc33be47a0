"""ONNX export of a Sequential model (``model.export_onnx(path)``).

The graph is built with the ``onnx`` package's helpers (``pip install
onnx``), opset 17, input ``"input"`` of shape (batch, features) and output
``"output"`` of shape (batch, outputs), the batch dimension dynamic. It
computes what ``model.predict`` computes, in inference mode:

    Dense                 Gemm(x, kernel, bias), then its activation
    Activation            the activation
    BatchNormalization    BatchNormalization with the moving statistics
    Dropout               nothing (the identity in inference)

Activations: linear (none), relu, sigmoid, tanh, softmax (axis -1),
leaky_relu (LeakyRelu), elu (Elu) as single operators; softplus as
max(z, 0) + log(1 + exp(-|z|)) (libnn's stable form), mish as
z · tanh(softplus(z)), gelu as z · ½(1 + erf(z/√2)) (the exact GELU: opset
17 has no Gelu operator), step as Cast(z > 0). Not exported: anything of
training (loss, optimizer and its state, regularizers, metrics); a model
file (``model.save``) keeps those.
"""

import math

import numpy as np

from . import layers as layers_module

OPSET = 17


def export_onnx(model, path, opset=OPSET):
    """Write `model` (built: its input width known) to `path` as ONNX."""
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        raise ImportError("export_onnx needs the onnx package: pip install onnx") from None

    model._ensure_built_for("ONNX export")
    weights = iter(model.get_weights())
    nodes, initializers = [], []
    names = set()

    def fresh(base):
        name, i = base, 0
        while name in names:
            i += 1
            name = f"{base}_{i}"
        names.add(name)
        return name

    def constant(base, array):
        name = fresh(base)
        initializers.append(numpy_helper.from_array(np.asarray(array, dtype=np.float32), name))
        return name

    def node(op, inputs, base, **attributes):
        out = fresh(base)
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attributes))
        return out

    def activation(function, z, prefix):
        kind = function.name
        if kind == "linear":
            return z
        simple = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh"}
        if kind in simple:
            return node(simple[kind], [z], f"{prefix}/{kind}")
        if kind == "softmax":
            return node("Softmax", [z], f"{prefix}/softmax", axis=-1)
        if kind == "leaky_relu":
            return node("LeakyRelu", [z], f"{prefix}/leaky_relu", alpha=float(function.negative_slope))
        if kind == "elu":
            return node("Elu", [z], f"{prefix}/elu", alpha=float(function.alpha))
        if kind == "softplus":
            return softplus(z, prefix)
        if kind == "mish":
            return node("Mul", [z, node("Tanh", [softplus(z, prefix)], f"{prefix}/tanh")], f"{prefix}/mish")
        if kind == "gelu":
            scaled = node("Mul", [z, constant(f"{prefix}/inv_sqrt2", 1 / math.sqrt(2))], f"{prefix}/scaled")
            one_plus = node("Add", [node("Erf", [scaled], f"{prefix}/erf"), constant(f"{prefix}/one", 1.0)],
                            f"{prefix}/one_plus_erf")
            cdf = node("Mul", [one_plus, constant(f"{prefix}/half", 0.5)], f"{prefix}/cdf")
            return node("Mul", [z, cdf], f"{prefix}/gelu")
        if kind == "step":
            positive = node("Greater", [z, constant(f"{prefix}/zero", 0.0)], f"{prefix}/positive")
            return node("Cast", [positive], f"{prefix}/step", to=TensorProto.FLOAT)
        raise ValueError(f"export_onnx: no ONNX form for the activation {kind!r}")

    def softplus(z, prefix):
        # max(z, 0) + log(1 + exp(-|z|)): no overflow for large z.
        tail = node("Exp", [node("Neg", [node("Abs", [z], f"{prefix}/abs")], f"{prefix}/neg")], f"{prefix}/exp")
        log = node("Log", [node("Add", [tail, constant(f"{prefix}/one", 1.0)], f"{prefix}/one_plus")],
                   f"{prefix}/log")
        return node("Add", [node("Relu", [z], f"{prefix}/positive_part"), log], f"{prefix}/softplus")

    current = "input"
    names.add(current)
    for layer in model.layers:
        prefix = layer.name
        if isinstance(layer, layers_module.Dense):
            kernel, bias = next(weights), next(weights)
            z = node("Gemm", [current, constant(f"{prefix}/kernel", kernel), constant(f"{prefix}/bias", bias)],
                     f"{prefix}/linear")
            current = activation(layer.activation_function, z, prefix)
        elif isinstance(layer, layers_module.BatchNormalization):
            gamma, beta, mean, variance = (next(weights) for _ in range(4))
            current = node("BatchNormalization",
                           [current, constant(f"{prefix}/gamma", gamma), constant(f"{prefix}/beta", beta),
                            constant(f"{prefix}/moving_mean", mean),
                            constant(f"{prefix}/moving_variance", variance)],
                           f"{prefix}/normalized", epsilon=float(layer.epsilon))
        elif isinstance(layer, layers_module.Activation):
            current = activation(layer.activation_function, current, prefix)
        elif isinstance(layer, (layers_module.Dropout, layers_module.Input)):
            continue
        else:
            raise ValueError(f"export_onnx: no ONNX form for the layer {layer.name!r} "
                             f"({type(layer).__name__})")
    nodes.append(helper.make_node("Identity", [current], ["output"], name="output"))

    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", model.input_shape[1]])]
    outputs = [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", model.output_shape[1]])]
    graph = helper.make_graph(nodes, "libnn_sequential", inputs, outputs, initializers)
    onnx_model = helper.make_model(graph, producer_name="libnn",
                                   opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(onnx_model)
    onnx.save(onnx_model, path)
    return path
