"""Pictures of training: learning curves and per-layer health.

    history = model.fit(x, y, validation_split=0.2, epochs=50,
                        callbacks=[nn.callbacks.LayerStatistics()])
    history.plot("curves.png")                  # loss and metrics, training and validation
    nn.plot_layer_stats(history, "layers.png")  # gradient norms, dead and saturated units per layer

matplotlib is optional: it is needed only here (``make demo`` installs it),
and a clear ImportError says so when it is missing. The figures are drawn
with the non-interactive Agg backend, so they work without a display.
"""

import math

__all__ = ["plot_history", "plot_layer_stats"]


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError("plotting needs matplotlib, which is not installed: pip install matplotlib "
                          "(make demo installs it)") from None
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    return plt


def _integer_ticks(ax):
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _save(fig, path, plt):
    try:
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
    return path


def plot_history(history, path, title=None):
    """Write a PNG of the learning curves in ``history`` (an nn History, or
    its ``history`` dict): one panel per quantity ('loss', each metric),
    training as a solid line and validation ('val_' + name) dashed, against
    the epoch. Returns path."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ValueError("the history has no logs to plot: train with fit() first")
    epochs = list(getattr(history, "epoch", [])) or list(range(len(next(iter(logs.values())))))
    names = [k for k in logs if not k.startswith("val_") and k != "learning_rate"]
    names += [k[4:] for k in logs if k.startswith("val_") and k[4:] not in logs]
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.8), squeeze=False)
    for ax, name in zip(axes[0], names):
        for key, style, label in ((name, "-", "training"), ("val_" + name, "--", "validation")):
            values = logs.get(key)
            if values:
                ax.plot([e + 1 for e in epochs[:len(values)]], values, style, label=label)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        _integer_ticks(ax)
        if name == "loss" and all(v > 0 for v in logs.get("loss", []) if math.isfinite(v)):
            ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path, plt)


def plot_layer_stats(history, path, title=None):
    """Write a PNG of the per-layer statistics in ``history.layer_stats``
    (collected with the nn.callbacks.LayerStatistics callback): the gradient
    norm of each layer with parameters (log scale), the fraction of dead
    ReLU units and of saturated sigmoid/tanh outputs per layer, and the
    update-to-weight ratio, against the epoch. Returns path."""
    stats = getattr(history, "layer_stats", None)
    if not stats:
        raise ValueError("the history has no layer statistics: pass "
                         "callbacks=[nn.callbacks.LayerStatistics()] to fit")
    epochs = [entry["epoch"] + 1 for entry in stats]
    layers = stats[0]["layers"]
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4))
    panels = (
        (axes[0], "gradient_norm", "gradient norm", True),
        (axes[1], None, "dead (ReLU) / saturated (sigmoid, tanh) fraction", False),
        (axes[2], "update_ratio", "update / weight ratio", True),
    )
    for ax, key, label, log in panels:
        for i, layer in enumerate(layers):
            name = layer["name"]
            if key is None:
                for field, style in (("dead_fraction", "-"), ("saturated_fraction", "--")):
                    values = [entry["layers"][i][field] for entry in stats]
                    if all(v is not None for v in values):
                        ax.plot(epochs, values, style, label=f"{name} ({field.split('_')[0]})")
                continue
            values = [entry["layers"][i][key] for entry in stats]
            if all(v is not None for v in values):
                shown = [v if v > 0 else float("nan") for v in values] if log else values
                ax.plot(epochs, shown, label=name)
        ax.set_title(label)
        ax.set_xlabel("epoch")
        _integer_ticks(ax)
        if log and ax.lines:
            ax.set_yscale("log")
        if key is None:
            ax.set_ylim(-0.02, 1.02)
        ax.grid(True, alpha=0.3)
        if ax.lines:
            ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path, plt)
