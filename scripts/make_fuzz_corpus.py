#!/usr/bin/env python3
"""Writes the seed corpus of the model-loader fuzzer (scripts/fuzz.sh):
Tests/fuzz/corpus/*.safetensors.

    python3 scripts/make_fuzz_corpus.py [OUTPUT_DIR]

valid-*  model files exactly as libnn writes them: each model is built and
         (for some) trained through the Python binding, then serialized by
         libnn itself (Sequential.to_bytes → nn_model_save_to_buffer →
         Sequential.serialized in Swift), so they cannot drift from the
         format. Dense, Dropout, BatchNormalization and Activation layers;
         each optimizer; schedules; with and without optimizer state.
bad-*    each one a valid file broken in one way (truncated, a header length
         larger than the file or than any header may be, overlapping or
         out-of-range offsets, a wrong dtype or shape, a missing or extra
         tensor, an unknown layer kind, malformed JSON, a newer format
         version, a NaN weight, ...). libnn must refuse every one with
         NNError.invalidFile (nn_model_load: NN_ERROR_INVALID_FILE).

Needs `import nn` to work (`make python`, or NN_LIBRARY=/path/to/libnn.so
with bindings/python on PYTHONPATH) and numpy. The output is deterministic:
the same libnn writes the same bytes, so the committed corpus only changes
when the format does. The whole corpus stays small (some 50 KB).
"""

import json
import os
import struct
import sys

import numpy as np

try:
    import nn
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings", "python"))
    import nn
from nn.layers import Activation, BatchNormalization, Dense, Dropout


# --------------------------------------------------------------------------
# safetensors bytes (https://github.com/huggingface/safetensors)
# --------------------------------------------------------------------------

def split(data):
    """(header dict, data buffer) of a well-formed safetensors file."""
    (n,) = struct.unpack_from("<Q", data, 0)
    return json.loads(data[8:8 + n]), data[8 + n:]


def join(header, buffer, header_text=None, declared=None):
    """A safetensors file: 8-byte little-endian header length, the JSON
    header padded with spaces to a multiple of 8, the data buffer.
    header_text replaces the JSON text; declared, the length field."""
    text = header_text if header_text is not None else \
        json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text) if declared is None else declared) + text + buffer


def with_metadata(data, key, change):
    """data with metadata JSON string `key` replaced by change(parsed value)."""
    header, buffer = split(data)
    value = json.loads(header["__metadata__"][key])
    value = change(value)
    header["__metadata__"][key] = value if isinstance(value, str) else \
        json.dumps(value, separators=(",", ":"), sort_keys=True)
    return join(header, buffer)


def with_header(data, change):
    """data with its header dict passed through change (in place)."""
    header, buffer = split(data)
    change(header)
    return join(header, buffer)


def without_tensors(data, drop):
    """data without the tensors whose names satisfy drop (their bytes
    removed too, the other offsets moved down)."""
    header, buffer = split(data)
    kept, packed = {"__metadata__": header["__metadata__"]} if "__metadata__" in header else {}, b""
    for name, entry in tensors(header):
        if drop(name):
            continue
        begin, end = entry["data_offsets"]
        kept[name] = dict(entry, data_offsets=[len(packed), len(packed) + end - begin])
        packed += buffer[begin:end]
    return join(kept, packed)


def tensors(header):
    """The tensor entries of a header, ordered by offset."""
    return sorted(((k, v) for k, v in header.items() if k != "__metadata__"),
                  key=lambda kv: kv[1]["data_offsets"])


# --------------------------------------------------------------------------
# Valid models, serialized by libnn
# --------------------------------------------------------------------------

def data(rows, inputs, outputs, seed, classes=False):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, inputs)).astype(np.float32)
    if classes:
        y = np.eye(outputs, dtype=np.float32)[rng.integers(0, outputs, rows)]
    else:
        y = rng.standard_normal((rows, outputs)).astype(np.float32)
    return x, y


def valid_models():
    """name → bytes of each valid file."""
    out = {}

    # The smallest: one Dense layer, never compiled.
    m = nn.Sequential([Dense(1, input_dim=1)], seed=1)
    out["valid-dense-uncompiled"] = m.to_bytes(include_optimizer=False)

    # Two Dense layers (an activation module between them), Adam, trained.
    m = nn.Sequential([Dense(3, activation="relu", input_dim=2), Dense(1, activation="sigmoid")], seed=2)
    m.compile(optimizer=nn.optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy", metrics=["accuracy"])
    x, y = data(8, 2, 1, 2)
    m.fit(x, (y > 0).astype(np.float32), epochs=2, batch_size=4, verbose=0)
    out["valid-dense-adam-trained-optimizer"] = m.to_bytes(include_optimizer=True)
    out["valid-dense-adam-trained-no-optimizer"] = m.to_bytes(include_optimizer=False)

    # Every layer kind: Dense, BatchNormalization, Activation, Dropout;
    # SGD with momentum and a step schedule; classification metrics.
    m = nn.Sequential([
        Dense(4, input_dim=3, kernel_initializer="he_normal", kernel_regularizer=nn.regularizers.L2(1e-3)),
        BatchNormalization(momentum=0.2, epsilon=1e-4),
        Activation("tanh"),
        Dropout(0.25),
        Dense(2, activation="softmax"),
    ], seed=3)
    m.compile(optimizer=nn.optimizers.SGD(learning_rate=nn.schedules.StepDecay(0.1, step_size=1, gamma=0.5),
                                          momentum=0.9, nesterov=True),
              loss="categorical_crossentropy", metrics=["accuracy", "f1_macro"])
    x, y = data(6, 3, 2, 3, classes=True)
    m.fit(x, y, epochs=2, batch_size=3, verbose=0)
    out["valid-all-layers-sgd-optimizer"] = m.to_bytes(include_optimizer=True)
    out["valid-all-layers-sgd-no-optimizer"] = m.to_bytes(include_optimizer=False)

    # Activations with a parameter, L1L2, RMSprop (centered, momentum),
    # ReduceLROnPlateau (saved plateau state), Huber loss.
    m = nn.Sequential([
        Dense(3, activation=nn.activations.LeakyReLU(negative_slope=0.2), input_dim=2,
              kernel_regularizer=nn.regularizers.L1L2(l1=1e-4, l2=1e-3)),
        Dense(2, activation=nn.activations.ELU(alpha=0.5), bias_initializer=nn.initializers.Constant(0.1)),
        Dense(1),
    ], seed=4)
    m.compile(optimizer=nn.optimizers.RMSprop(learning_rate=0.01, momentum=0.5, centered=True),
              loss=nn.losses.Huber(delta=2.0), metrics=["mae"])
    x, y = data(6, 2, 1, 4)
    m.fit(x, y, epochs=3, batch_size=2, verbose=0,
          callbacks=[nn.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1)])
    out["valid-rmsprop-plateau-optimizer"] = m.to_bytes(include_optimizer=True)

    # The other optimizers (state names differ) and schedules, trained one
    # step; one compiled but never trained (optimizer_step 0, no tensors).
    for name, optimizer in [
        ("adamw-amsgrad-cosine", nn.optimizers.AdamW(
            learning_rate=nn.schedules.CosineDecay(0.01, t_max=4), amsgrad=True, clipnorm=1.0)),
        ("adagrad-exponential", nn.optimizers.Adagrad(
            learning_rate=nn.schedules.ExponentialDecay(0.1, gamma=0.9), clipvalue=0.5)),
        ("rprop", nn.optimizers.Rprop(learning_rate=0.01)),
    ]:
        m = nn.Sequential([Dense(2, activation="gelu", input_dim=2), BatchNormalization(), Dense(1)], seed=5)
        m.compile(optimizer=optimizer, loss="mse")
        x, y = data(4, 2, 1, 5)
        m.fit(x, y, epochs=1, batch_size=4, verbose=0)
        out[f"valid-{name}-optimizer"] = m.to_bytes(include_optimizer=True)
    m = nn.Sequential([Dense(2, activation="softplus", input_dim=2), Dense(1)], seed=6)
    m.compile(optimizer="adam", loss="mae")
    out["valid-compiled-untrained-optimizer"] = m.to_bytes(include_optimizer=True)
    return out


# --------------------------------------------------------------------------
# Broken files, each derived from a valid one
# --------------------------------------------------------------------------

def broken_models(valid):
    base = valid["valid-dense-adam-trained-optimizer"]
    small = valid["valid-dense-uncompiled"]
    every = valid["valid-all-layers-sgd-optimizer"]
    header, buffer = split(base)
    names = [k for k, _ in tensors(header)]
    out = {}

    # Truncated: inside the length, inside the header, inside the data.
    out["bad-truncated-length"] = base[:7]
    out["bad-truncated-header"] = base[:8 + 40]
    out["bad-truncated-data"] = base[:-5]
    out["bad-empty-header"] = struct.pack("<Q", 0)
    # Header lengths: more than the file holds; more than any header may be.
    out["bad-header-longer-than-file"] = struct.pack("<Q", len(small)) + small[8:]
    out["bad-header-length-huge"] = struct.pack("<Q", 2**64 - 1) + small[8:]
    out["bad-header-length-17MiB"] = struct.pack("<Q", 17 << 20) + small[8:]
    out["bad-header-not-object"] = join(None, b"", header_text=b"[1,2,3]")

    # Offsets: two tensors overlapping; one beyond the data; a hole; begin > end.
    def overlap(h):
        first, second = h[names[0]]["data_offsets"], h[names[1]]["data_offsets"]
        h[names[1]]["data_offsets"] = [first[0], first[0] + second[1] - second[0]]
    out["bad-offsets-overlap"] = with_header(base, overlap)

    def beyond(h):
        last = h[names[-1]]["data_offsets"]
        h[names[-1]]["data_offsets"] = [last[0] + 4, last[1] + 4]
    out["bad-offsets-out-of-range"] = with_header(base, beyond)
    out["bad-offsets-hole"] = join(*split(base)) + b"\0\0\0\0"

    def reversed_offsets(h):
        h[names[0]]["data_offsets"] = list(reversed(h[names[0]]["data_offsets"]))
    out["bad-offsets-reversed"] = with_header(base, reversed_offsets)

    def huge_offsets(h):
        h[names[0]]["data_offsets"] = [0, 2**63 - 1]
    out["bad-offsets-huge"] = with_header(base, huge_offsets)

    # dtype and shape: F16 for an F32 tensor (same byte count: twice the
    # elements); an unknown dtype; a shape that does not match the bytes;
    # one whose product overflows; the model's transposed shape.
    weight = next(n for n in names if n.endswith(".weight") and not n.startswith("optimizer."))

    def f16(h):
        h[weight]["dtype"] = "F16"
        h[weight]["shape"] = [h[weight]["shape"][0] * 2] + h[weight]["shape"][1:]
    out["bad-dtype-f16"] = with_header(base, f16)

    def unknown_dtype(h):
        h[weight]["dtype"] = "F33"
    out["bad-dtype-unknown"] = with_header(base, unknown_dtype)

    def shape_mismatch(h):
        h[weight]["shape"] = h[weight]["shape"] + [2]
    out["bad-shape-size"] = with_header(base, shape_mismatch)

    def shape_overflow(h):
        h[weight]["shape"] = [2**32, 2**32, 0, 2**40]
    out["bad-shape-overflow"] = with_header(base, shape_overflow)

    def transposed(h):
        h[weight]["shape"] = list(reversed(h[weight]["shape"]))
    out["bad-shape-transposed"] = with_header(base, transposed)

    # Tensors: one missing; one extra; a NaN weight; a negative variance;
    # a num_batches_tracked that is not an I64 scalar.
    out["bad-tensor-missing"] = without_tensors(small, lambda name: name == "0.bias")
    out["bad-optimizer-tensor-missing"] = without_tensors(base, lambda name: name.endswith("exp_avg_sq"))
    h2, b2 = split(small)
    h2["0.extra"] = {"dtype": "F32", "shape": [1], "data_offsets": [len(b2), len(b2) + 4]}
    out["bad-tensor-extra"] = join(h2, b2 + b"\0\0\0\0")
    h3, b3 = split(small)
    start = h3["0.weight"]["data_offsets"][0]
    b3 = b3[:start] + struct.pack("<f", float("nan")) + b3[start + 4:]
    out["bad-weight-nan"] = join(h3, b3)
    h4, b4 = split(every)
    var = next(k for k in h4 if k.endswith("running_var"))
    start = h4[var]["data_offsets"][0]
    out["bad-running-var-negative"] = join(h4, b4[:start] + struct.pack("<f", -1.0) + b4[start + 4:])

    def counter_f32(h):
        key = next(k for k in h if k.endswith("num_batches_tracked"))
        h[key]["dtype"] = "F64"
    out["bad-counter-dtype"] = with_header(every, counter_f32)

    # Metadata: not libnn; a newer format; an unknown layer kind; a layer
    # whose weights the file cannot hold; malformed JSON (header and metadata).
    out["bad-not-libnn"] = with_header(small, lambda h: h.pop("__metadata__"))
    out["bad-format-version-2"] = with_header(small, lambda h: h["__metadata__"].update(format_version="2"))

    def unknown_kind(a):
        a["layers"][0]["kind"] = "Conv2D"
        return a
    out["bad-layer-kind-unknown"] = with_metadata(small, "architecture", unknown_kind)

    def huge_units(a):
        a["layers"][0]["units"] = 2**31
        return a
    out["bad-layer-units-huge"] = with_metadata(small, "architecture", huge_units)

    def huge_input(a):
        a["input_dim"] = 2**31
        a["layers"] = [{"kind": "Dropout", "rate": 0.5}]
        return a
    # No weights at all: a valid file that libnn may load or refuse; the
    # loader must not allocate 2^31 of anything for it.
    out["edge-dropout-huge-input"] = without_tensors(
        with_metadata(small, "architecture", huge_input), lambda name: True)

    def unknown_optimizer(c):
        c["optimizer"]["kind"] = "lion"
        return c
    out["bad-optimizer-unknown"] = with_metadata(base, "compile", unknown_optimizer)
    out["bad-metadata-json"] = with_metadata(small, "architecture", lambda a: json.dumps(a)[:-1] + ",]")
    h5, b5 = split(small)
    text = json.dumps(h5, separators=(",", ":"), sort_keys=True).encode()
    out["bad-header-json"] = join(None, b5, header_text=text[:-1] + b",}")
    out["bad-header-duplicate-key"] = join(None, b5, header_text=text[:-1] + b',"__metadata__":{}}')
    out["bad-header-utf8"] = join(None, b5, header_text=text.replace(b'"0.bias"', b'"0.\xc3\x28"'))

    def rng_zero(t):
        t["rng"] = ["0", "0", "0", "0"]
        return t
    out["bad-rng-zero"] = with_metadata(small, "training", rng_zero)
    return out


def dictionary(valid):
    """libFuzzer dictionary entries: the words of the format (safetensors
    keys and dtypes, tensor-name parts, every key and name of the metadata
    JSON), so mutations can swap one valid word for another."""
    words = {"__metadata__", "dtype", "shape", "data_offsets", "optimizer.", "weight", "bias",
             "running_mean", "running_var", "num_batches_tracked", "exp_avg", "exp_avg_sq",
             "max_exp_avg_sq", "momentum_buffer", "square_avg", "grad_avg", "sum", "prev", "step_size",
             "BOOL", "U8", "I8", "F8_E4M3", "F8_E5M2", "I16", "U16", "F16", "BF16", "I32", "U32", "F32",
             "F64", "I64", "U64", "null", "true", "false", "1e308", "-0.0", "NaN", "\\u0000", "\\ud800"}

    def walk(value):
        if isinstance(value, dict):
            for key, item in value.items():
                words.add(key)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and not all(c in "0123456789abcdef" for c in value):
            words.add(value)

    for data in valid.values():
        header, _ = split(data)
        for key, text in header["__metadata__"].items():
            words.add(key)
            try:
                walk(json.loads(text))
            except ValueError:
                pass
        for name, entry in tensors(header):
            words.update(name.split("."))
    lines = ["# libFuzzer dictionary of the model-loader fuzzer: written by scripts/make_fuzz_corpus.py"]
    for word in sorted(w for w in words if w and not w.isdigit() and len(w) <= 64):
        lines.append('"%s"' % word.replace("\\", "\\\\").replace('"', '\\"'))
    return "\n".join(lines) + "\n"


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    target = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "Tests", "fuzz", "corpus")
    os.makedirs(target, exist_ok=True)
    valid = valid_models()
    broken = broken_models(valid)
    for old in os.listdir(target):
        if old.endswith(".safetensors"):
            os.remove(os.path.join(target, old))
    total = 0
    for name, data in {**valid, **broken}.items():
        data = bytes(data)
        verdict = "loads"
        try:
            nn.load_model(data)
        except Exception as error:  # noqa: BLE001 - every refusal is reported below
            verdict = f"refused: {type(error).__name__}: {str(error)[:100]}"
        if not name.startswith("edge-") and name.startswith("valid-") != (verdict == "loads"):
            print(f"unexpected: {name} {verdict}", file=sys.stderr)
        with open(os.path.join(target, name + ".safetensors"), "wb") as f:
            f.write(data)
        total += len(data)
        print(f"{len(data):6d}  {name}  ({verdict})")
    print(f"{len(valid) + len(broken)} files, {total} bytes in {os.path.normpath(target)}")
    dict_path = os.path.join(os.path.dirname(os.path.normpath(target)), "loader.dict")
    with open(dict_path, "w") as f:
        f.write(dictionary(valid))
    print(f"dictionary: {os.path.normpath(dict_path)}")


if __name__ == "__main__":
    main()
