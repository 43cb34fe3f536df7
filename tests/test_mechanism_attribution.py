import pytest
import torch

from reuse_utils.analysis.attribution import layer_panel_shares, panel_shares, randomised_reliance
from reuse_utils.analysis.panel_weights import panel_columns, panel_weight_norms
from reuse_utils.generator import make_pairs
from reuse_utils.training.models import build_model


def test_panel_columns():
    regions = {"alice": (0, 28, 0, 28), "bob": (0, 28, 28, 56)}
    cols = panel_columns(regions, "horizontal", 8, 7)
    assert cols == {"alice": [0, 1, 2], "bob": [4, 5, 6]}
    assert panel_columns(regions, "horizontal", 1, 56)["bob"] == list(range(28, 56))


@pytest.mark.parametrize("arch", ["cnn", "mlp"])
def test_weight_norms_see_erased_panel(arch):
    init = build_model(arch, (1, 28, 56), 10, seed=0)
    model = build_model(arch, (1, 28, 56), 10, seed=0)
    lin = model.layers[3][1] if arch == "cnn" else model.layers[0][1]
    shape, first_bob = ((lin.out_features, -1, 3, 7), 4) if arch == "cnn" else ((lin.out_features, 1, 28, 56), 28)
    with torch.no_grad():  # erase every weight that reads Bob's half
        lin.weight.view(*shape)[..., first_bob:] = 0
    out = panel_weight_norms(model, init, {"alice": (0, 28, 0, 28), "bob": (0, 28, 28, 56)})
    assert out["bob_vs_init"] == 0 and out["alice_rms"] == pytest.approx(out["alice_rms_init"])
    with pytest.raises(ValueError, match="arch must be"):
        panel_weight_norms(build_model("resnet18", (3, 16, 32), 2), build_model("resnet18", (3, 16, 32), 2),
                           {"alice": (0, 16, 0, 16), "bob": (0, 16, 16, 32)})


class _LeftOnly(torch.nn.Module):
    """Reads only Alice's (left) panel: attribution must put nothing on Bob's."""

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(28 * 28, 10)

    def forward(self, x):
        return self.lin(x[:, :, :, :28].flatten(1))


def test_ig_share_on_a_model_that_ignores_bob(mnist5k_test):
    p = make_pairs(mnist5k_test, 64, 0.0, seed=0)
    shares = panel_shares(_LeftOnly(), p, "alice", n=16, n_steps=8)
    assert shares["bob_share"] == pytest.approx(0.0, abs=1e-6)
    assert shares["alice_share"] == pytest.approx(1.0, abs=1e-6)


def test_layer_shares_and_reliance(mnist5k_test):
    p = make_pairs(mnist5k_test, 128, 1.0, seed=0)
    net = build_model("cnn", p.input_shape, 10, seed=0)
    layers = layer_panel_shares(net, p, "bob", n=16, n_steps=4)
    assert set(layers) == {"conv1", "conv2", "conv3"} and all(0 <= v <= 1 for v in layers.values())
    rel = randomised_reliance(net, p, "bob", seed=0)
    assert set(rel) == {"acc", "acc_alice_randomised", "acc_bob_randomised", "bob_reliance"}
