import pytest
import torch

from reuse_utils.core.device import autocast, describe_device, get_device, seed_everything


def test_auto_picks_available_device():
    dev = get_device("auto")
    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if torch.backends.mps.is_available() else "cpu")
    assert dev.type == expected
    assert describe_device(torch.device("cpu")).startswith("cpu")


def test_forced_cpu():
    assert get_device("cpu") == torch.device("cpu")
    assert get_device(torch.device("cpu")) == torch.device("cpu")


@pytest.mark.parametrize("bad", ["gpu", "", "tpu:0", 3])
def test_bad_preference_names_argument(bad):
    with pytest.raises(ValueError, match="device must be"):
        get_device(bad)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_unavailable_cuda_is_an_error_not_a_fallback():
    with pytest.raises(ValueError, match="CUDA is not available"):
        get_device("cuda:1")


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, "3", True])
def test_bad_seed(bad):
    with pytest.raises(ValueError, match="seed"):
        seed_everything(bad)


def _tiny_training(seed: int) -> torch.Tensor:
    seed_everything(seed)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(4 * 6 * 6, 3))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    x = torch.randn(32, 1, 8, 8)
    y = torch.randint(3, (32,))
    for _ in range(5):
        perm = torch.randperm(32)
        loss = torch.nn.functional.cross_entropy(net(x[perm]), y[perm])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return torch.cat([p.detach().flatten() for p in net.parameters()])


def test_same_seed_bit_identical_on_cpu():
    a, b = _tiny_training(7), _tiny_training(7)
    assert torch.equal(a, b)
    assert not torch.equal(a, _tiny_training(8))


def test_autocast_is_noop_on_cpu():
    x = torch.randn(4, 4)
    with autocast(torch.device("cpu")):
        y = x @ x
    assert y.dtype == torch.float32


def test_accel_defaults_per_device():
    from reuse_utils.core.device import Accel

    cpu = Accel().resolve(torch.device("cpu"))
    assert (cpu.channels_last, cpu.bf16, cpu.compile) == (False, False, False)
    cuda = Accel().resolve(torch.device("cuda"))
    assert (cuda.channels_last, cuda.bf16, cuda.compile) == (True, True, False)
    assert Accel(bf16=True).resolve(torch.device("cpu")).bf16 is False  # bf16 autocast is CUDA-only
    with pytest.raises(ValueError, match="compile must be"):
        Accel(compile="yes").resolve(torch.device("cpu"))
