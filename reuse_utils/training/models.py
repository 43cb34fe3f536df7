"""Architectures, each an ordered stack of "layers" that Bob can freeze or retrain.

A *layer* is one retrainable unit: a conv or linear block together with its normalisation,
activation and pooling. ``retrainable_layers(model)`` lists them bottom → top; the last one is
the output layer (its final ``nn.Linear`` has ``num_classes`` outputs).

* ``"cnn"``  — small VGG-style net: 3 conv blocks (3×3 conv, ReLU, 2×2 max-pool; ``width``,
  2·``width``, 4·``width`` channels), then ``fc`` (flatten, linear 128, ReLU) and ``out``:
  L = 5. Convolution shares its weights across the two panels. A block applies the pooling
  before the ReLU: the same function and the same gradients bit for bit (max commutes with the
  monotone ReLU, and both orders send a window's gradient to the same element; tested), with the
  ReLU and its gradient on a quarter of the elements.
* ``"mlp"``  — flatten, 3 hidden linear layers (``width`` units, ReLU), ``out``: L = 4. No weight
  sharing across panels: the architecture control.
* ``"resnet18"`` — torchvision's ResNet-18 for small inputs (3×3 stride-1 stem, no max-pool):
  stem, layer1–4, ``out`` (global average pool + linear): L = 6. BatchNorm statistics of frozen
  layers stay frozen (they are kept in eval mode while Bob trains).

Memory format: a network with convolutions keeps its 4-d weights in the format fastest on its
device (:func:`fast_memory_format`): ``channels_last`` on the CPU — oneDNN then runs convolution,
max-pooling and their gradients in NHWC, faster for Alice's epochs and inference
(``benchmarks/measured/memory_format_quick_cpu2.json``) — and PyTorch's default
elsewhere (on CUDA, :class:`reuse_utils.core.Accel`'s ``channels_last`` switch converts a network
for its own training loop). ``build_model`` returns it so on the CPU; :meth:`LayeredNet.place`
moves a network and settles its format. Only the layout changes, never a value: results agree up
to float rounding.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import torch
from torch import nn

from reuse_utils.core.workers import seeded_rng

__all__ = ["LayeredNet", "TrainRecord", "build_model", "retrainable_layers", "ARCHS", "reset_layer", "output_linear",
           "fast_memory_format"]

ARCHS = ("cnn", "mlp", "resnet18")
DEFAULT_WIDTH = {"cnn": 8, "mlp": 128, "resnet18": 64}


def fast_memory_format(device: torch.device | str) -> torch.memory_format:
    """The layout of 4-d convolution tensors that runs fastest on ``device``: ``channels_last`` on
    the CPU (oneDNN's NHWC kernels), ``contiguous_format`` elsewhere (CUDA's NCHW defaults were the
    ones measured; NHWC there is untested)."""
    return torch.channels_last if torch.device(device).type == "cpu" else torch.contiguous_format


@dataclass
class TrainRecord:
    """How a network was trained. ``history``: one dict per epoch run (``epoch``, ``train_loss``,
    ``train_acc``, and ``val_loss``/``val_acc``/``test_acc`` where measured); ``frozen_layers``: bottom
    layers kept frozen (0: every layer trains); ``stopped_by``: ``"patience"`` (early stopping),
    ``"cap"`` (the epoch cap) or ``"none"`` (never trained); ``best_epoch``: the 1-based epoch whose
    weights were kept (0: never trained); ``final_test_acc``: accuracy on the test pairs given to
    training, of the kept weights (``None``: none were given)."""

    history: list[dict] = field(default_factory=list)
    frozen_layers: int = 0
    stopped_by: str = "none"
    best_epoch: int = 0
    final_test_acc: float | None = None


class LayeredNet(nn.Module):
    """A sequential network whose ``layers`` are the units counted by :func:`retrainable_layers`;
    ``record`` (:class:`TrainRecord`) says how it was trained. :meth:`place` moves it with its 4-d
    weights in :func:`fast_memory_format` (module docstring)."""

    def __init__(self, layers: list[nn.Module], names: list[str], arch: str,
                 input_shape: tuple[int, int, int], num_classes: int, width: int):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.layer_names = list(names)
        self.arch = arch
        self.input_shape = tuple(input_shape)
        self.num_classes = int(num_classes)
        self.width = int(width)
        self.record = TrainRecord()

    def place(self, device: torch.device | str) -> LayeredNet:
        """Move to ``device`` (in place, returned) with the 4-d weights in :func:`fast_memory_format`."""
        self.to(device)
        weights = [p for p in self.parameters() if p.dim() == 4]
        if weights:
            fmt = fast_memory_format(weights[0].device)
            if not all(p.is_contiguous(memory_format=fmt) for p in weights):
                self.to(memory_format=fmt)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    def forward_from(self, h: torch.Tensor, start: int) -> torch.Tensor:
        """Run layers ``start..L-1`` on an activation ``h`` of layer ``start - 1``."""
        for layer in self.layers[start:]:
            h = layer(h)
        return h

    def forward_to(self, x: torch.Tensor, stop: int, begin: int = 0) -> torch.Tensor:
        """Activation after the first ``stop`` layers (``stop = 0`` returns ``x``); with ``begin``,
        ``x`` is already the activation after the first ``begin`` layers."""
        for layer in self.layers[begin:stop]:
            x = layer(x)
        return x

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    def spec(self) -> dict:
        return {"arch": self.arch, "input_shape": list(self.input_shape),
                "num_classes": self.num_classes, "width": self.width}


def _conv_block(cin: int, cout: int) -> nn.Sequential:
    """3×3 conv, 2×2 max-pool, ReLU: relu(maxpool(z)) = maxpool(relu(z)) (module docstring)."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.MaxPool2d(2), nn.ReLU(inplace=True))


def _build_cnn(c: int, h: int, w: int, k: int, width: int) -> LayeredNet:
    if h < 8 or w < 8:
        raise ValueError(f"input_shape must be at least 8×8 pixels for 'cnn' (3 pooling stages); got {h}×{w}")
    chans = [width, 2 * width, 4 * width]
    layers: list[nn.Module] = [_conv_block(c, chans[0]), _conv_block(chans[0], chans[1]),
                               _conv_block(chans[1], chans[2])]
    flat = chans[2] * (h // 8) * (w // 8)
    layers.append(nn.Sequential(nn.Flatten(), nn.Linear(flat, 128), nn.ReLU(inplace=True)))
    layers.append(nn.Sequential(nn.Linear(128, k)))
    return LayeredNet(layers, ["conv1", "conv2", "conv3", "fc", "out"], "cnn", (c, h, w), k, width)


def _build_mlp(c: int, h: int, w: int, k: int, width: int) -> LayeredNet:
    d = c * h * w
    layers: list[nn.Module] = [nn.Sequential(nn.Flatten(), nn.Linear(d, width), nn.ReLU(inplace=True))]
    for _ in range(2):
        layers.append(nn.Sequential(nn.Linear(width, width), nn.ReLU(inplace=True)))
    layers.append(nn.Sequential(nn.Linear(width, k)))
    return LayeredNet(layers, ["fc1", "fc2", "fc3", "out"], "mlp", (c, h, w), k, width)


def _build_resnet18(c: int, h: int, w: int, k: int, width: int) -> LayeredNet:
    from torchvision.models import resnet18

    if width != 64:
        raise ValueError(f"width must be 64 for 'resnet18' (torchvision's widths); got {width}")
    net = resnet18(weights=None, num_classes=k)
    stem = nn.Sequential(nn.Conv2d(c, 64, 3, stride=1, padding=1, bias=False), nn.BatchNorm2d(64),
                         nn.ReLU(inplace=True))
    head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, k))
    layers = [stem, net.layer1, net.layer2, net.layer3, net.layer4, head]
    return LayeredNet(layers, ["stem", "layer1", "layer2", "layer3", "layer4", "out"],
                      "resnet18", (c, h, w), k, width)


def build_model(arch: str, input_shape: tuple[int, int, int], num_classes: int, *,
                width: int | None = None, seed: int | None = None) -> LayeredNet:
    """Build an untrained ``arch`` network for inputs C×H×W (or flat (D,) for ``mlp``) with
    ``num_classes`` outputs.

    ``width``: first-block channels (cnn), hidden units (mlp); default per arch. With ``seed`` the
    initial weights are reproducible without touching the global RNG state.
    """
    if arch not in ARCHS:
        raise ValueError(f"arch must be one of {list(ARCHS)}; got {arch!r}")
    if (not isinstance(input_shape, (tuple, list)) or len(input_shape) not in (1, 3)
            or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0 for v in input_shape)):
        raise ValueError(f"input_shape must be (C, H, W) (or (D,) for 'mlp') with positive integers; "
                         f"got {input_shape!r}")
    if len(input_shape) == 1 and arch != "mlp":
        raise ValueError(f"input_shape (D,) of flat features needs arch 'mlp'; got arch {arch!r}")
    if not isinstance(num_classes, numbers.Integral) or isinstance(num_classes, bool) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer ≥ 2; got {num_classes!r}")
    width = DEFAULT_WIDTH[arch] if width is None else width
    if not isinstance(width, numbers.Integral) or isinstance(width, bool) or not 1 <= width <= 4096:
        raise ValueError(f"width must be an integer in [1, 4096]; got {width!r}")
    c, h, w = (int(v) for v in input_shape) if len(input_shape) == 3 else (1, 1, int(input_shape[0]))
    builder = {"cnn": _build_cnn, "mlp": _build_mlp, "resnet18": _build_resnet18}[arch]
    if seed is None:
        model = builder(c, h, w, int(num_classes), int(width))
    else:
        with seeded_rng(int(seed)):
            model = builder(c, h, w, int(num_classes), int(width))
    model.input_shape = tuple(int(v) for v in input_shape)
    return model.place("cpu")


def retrainable_layers(model: nn.Module) -> list[nn.Module]:
    """The ordered (bottom → top) layers of a :class:`LayeredNet`."""
    if not isinstance(model, LayeredNet):
        raise ValueError(f"model must be a LayeredNet from build_model; got {type(model).__name__}")
    return list(model.layers)


def reset_layer(layer: nn.Module) -> None:
    """Re-initialise every parameterised submodule of ``layer`` (PyTorch default init)."""
    for m in layer.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()  # BatchNorm's also resets its running statistics


def output_linear(model: LayeredNet) -> nn.Linear:
    """The final ``nn.Linear`` of the output layer."""
    linears = [m for m in model.layers[-1].modules() if isinstance(m, nn.Linear)]
    return linears[-1]
