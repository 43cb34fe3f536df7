import copy

import pytest
import torch

from reuse_utils.training.models import build_model, output_linear, retrainable_layers


@pytest.mark.parametrize("arch,L,shape", [("cnn", 5, (1, 28, 56)), ("mlp", 4, (1, 28, 56)),
                                          ("resnet18", 6, (3, 16, 32))])
def test_layer_count_and_forward(arch, L, shape):
    net = build_model(arch, shape, 7, seed=0)
    layers = retrainable_layers(net)
    assert len(layers) == L == net.n_layers
    assert net(torch.zeros(2, *shape)).shape == (2, 7)
    assert output_linear(net).out_features == 7


def test_cnn_blocks_hold_conv_pool_act():
    net = build_model("cnn", (1, 28, 56), 10)
    kinds = [type(m).__name__ for m in retrainable_layers(net)[0]]
    assert kinds == ["Conv2d", "MaxPool2d", "ReLU"]
    assert net.layer_names == ["conv1", "conv2", "conv3", "fc", "out"]


@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
def test_pool_then_relu_equals_relu_then_pool_bit_for_bit(memory_format):
    """The cnn block pools before its ReLU; outputs and every gradient equal the textbook order's
    exactly — on images with blank (all-zero) regions, where windows tie."""
    net = build_model("cnn", (1, 28, 56), 10, seed=3).to(memory_format=memory_format)
    textbook = copy.deepcopy(net)
    for block in textbook.layers[:3]:
        block[1], block[2] = torch.nn.ReLU(inplace=True), torch.nn.MaxPool2d(2)
    x = torch.rand(16, 1, 28, 56, generator=torch.Generator().manual_seed(0))
    x[:, :, :, 28:] = 0  # a blank panel: windows of equal (bias-only) pre-activations
    x[:8, :, 10:20] = 0
    y = torch.arange(16) % 10
    outs = []
    for model in (net, textbook):
        xi = x.clone().requires_grad_(True)
        out = model(xi)
        torch.nn.functional.cross_entropy(out, y).backward()
        outs.append((out.detach(), xi.grad, [p.grad for p in model.parameters()]))
    assert torch.equal(outs[0][0], outs[1][0])
    assert torch.equal(outs[0][1], outs[1][1])
    for ga, gb in zip(outs[0][2], outs[1][2], strict=True):
        assert torch.equal(ga, gb)


def test_seeded_build_is_reproducible_and_leaves_global_rng():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = build_model("cnn", (1, 16, 32), 3, seed=5)
    after = torch.rand(1)
    b = build_model("cnn", (1, 16, 32), 3, seed=5)
    assert torch.equal(before, after)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)


@pytest.mark.parametrize("kwargs,match", [
    ({"arch": "transformer"}, "arch must be one of"),
    ({"input_shape": (28, 56)}, "input_shape must be"),
    ({"input_shape": (1, 4, 4)}, "at least 8×8"),
    ({"num_classes": 1}, "num_classes must be"),
    ({"width": 0}, "width must be"),
])
def test_bad_arguments(kwargs, match):
    args = {"arch": "cnn", "input_shape": (1, 28, 56), "num_classes": 10, **kwargs}
    with pytest.raises(ValueError, match=match):
        build_model(**args)


def test_retrainable_layers_rejects_plain_modules():
    with pytest.raises(ValueError, match="LayeredNet"):
        retrainable_layers(torch.nn.Linear(2, 2))


def test_conv_weights_channels_last_on_cpu_values_unchanged():
    """On the CPU a conv net's 4-d weights are channels-last (oneDNN's fast layout); the layout never
    changes a value: the same network in PyTorch's default layout computes the same outputs, and
    ``place`` settles the format per device."""
    import copy

    from reuse_utils.training.models import fast_memory_format

    model = build_model("cnn", (1, 28, 56), 10, seed=0)
    w = model.layers[1][0].weight
    assert w.is_contiguous(memory_format=torch.channels_last) and not w.is_contiguous()
    plain = copy.deepcopy(model).to(memory_format=torch.contiguous_format)
    assert plain.layers[1][0].weight.is_contiguous()
    x = torch.randn(5, 1, 28, 56, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(model(x), plain(x), atol=1e-5)
    assert plain.place("cpu") is plain and plain.layers[1][0].weight.is_contiguous(memory_format=torch.channels_last)
    assert fast_memory_format("cuda") == torch.contiguous_format and fast_memory_format("cpu") == torch.channels_last
    meta = copy.deepcopy(model).place("meta")
    assert meta.layers[1][0].weight.is_contiguous()
    assert build_model("mlp", (1, 28, 56), 10, seed=0).place("cpu").layers[0][1].weight.is_contiguous()
