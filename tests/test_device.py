"""tagger.device: which device and precision a run gets. The choice logic is tested on any
machine by faking what torch reports (CUDA with/without bf16, MPS, nothing); the parts that
need a real GPU are in the ``gpu`` tests at the end, which skip without CUDA."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tagger.config import TrainConfig
from tagger.device import check_names, describe, launched, make_accelerator, resolve_device
from tagger.errors import ConfigError

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.fixture
def fake_torch(monkeypatch: pytest.MonkeyPatch):
    """Set what torch reports: ``fake(cuda=..., bf16=..., mps=..., count=...)``."""

    def fake(cuda: bool = False, bf16: bool = False, mps: bool = False, count: int = 1) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: count if cuda else 0)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)

    return fake


@pytest.mark.unit
@pytest.mark.parametrize(
    ("cuda", "bf16", "mps", "expected"),
    [
        (True, True, False, ("cuda", "bf16")),  # Ampere and later
        (True, False, False, ("cuda", "fp16")),  # older GPUs: fp16 autocast with loss scaling
        (True, True, True, ("cuda", "bf16")),  # CUDA first
        (False, False, True, ("mps", "fp32")),
        (False, False, False, ("cpu", "fp32")),
    ],
)
def test_device_auto_prefers_cuda_then_mps_then_cpu(fake_torch, cuda: bool, bf16: bool, mps: bool, expected: tuple) -> None:
    fake_torch(cuda=cuda, bf16=bf16, mps=mps)
    assert resolve_device("auto") == expected
    assert resolve_device() == expected


@pytest.mark.unit
def test_device_named_device_that_is_missing_is_an_error(fake_torch) -> None:
    fake_torch(cuda=False, mps=False)
    with pytest.raises(ConfigError, match="device 'cuda' asked for, but CUDA is not available"):
        resolve_device("cuda")
    with pytest.raises(ConfigError, match="'mps' asked for, but Apple MPS is not available"):
        resolve_device("mps")
    fake_torch(cuda=True, bf16=True, count=1)
    assert resolve_device("cuda:0") == ("cuda:0", "bf16")
    with pytest.raises(ConfigError, match="'cuda:1' asked for, but there are 1 CUDA devices"):
        resolve_device("cuda:1")


@pytest.mark.unit
def test_device_explicit_precision(fake_torch) -> None:
    fake_torch(cuda=True, bf16=True)
    assert resolve_device("cuda", "fp32") == ("cuda", "fp32")
    assert resolve_device("cuda", "fp16") == ("cuda", "fp16")
    assert resolve_device("cpu", "bf16") == ("cpu", "bf16")  # CPU autocast
    with pytest.raises(ConfigError, match="fp16 needs a CUDA GPU"):
        resolve_device("cpu", "fp16")


@pytest.mark.unit
@pytest.mark.parametrize("name", ["gpu", "cuda:x", "CUDA", "", "cpu "])
def test_device_bad_names_are_config_errors(name: str) -> None:
    with pytest.raises(ConfigError, match="device must be one of auto, cpu, cuda, cuda:N, mps"):
        check_names(name)
    with pytest.raises(ConfigError, match="device must be one of"):
        TrainConfig(device=name)
    with pytest.raises(ConfigError, match="precision must be one of auto, fp32, bf16, fp16"):
        TrainConfig(precision="half")


@pytest.mark.unit
def test_device_config_defaults_to_auto_and_old_checkpoints_to_fp32() -> None:
    assert TrainConfig().device == "auto" and TrainConfig().precision == "auto"
    old = TrainConfig.from_dict({"device": "cpu", "epochs": 3})  # a checkpoint saved before `precision` existed
    assert old.device == "cpu" and old.precision == "fp32"


@pytest.mark.unit
def test_device_launcher_lets_accelerate_decide(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("ACCELERATE_MIXED_PRECISION", "ACCELERATE_USE_CPU", "LOCAL_RANK", "WORLD_SIZE"):
        monkeypatch.delenv(key, raising=False)
    assert not launched()
    monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", "no")
    assert launched()


@pytest.mark.unit
def test_device_describe_for_status_line() -> None:
    assert describe("cuda:0", "fp16") == "GPU cuda:0 (fp16)"
    assert describe("mps", "fp32") == "Apple GPU (mps, fp32)"
    assert describe("cpu", "fp32") == "CPU"


def test_device_accelerator_on_cpu_then_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs in one process with different precisions (accelerate keeps its state per process)."""
    for key in ("ACCELERATE_MIXED_PRECISION", "ACCELERATE_USE_CPU", "LOCAL_RANK", "WORLD_SIZE"):
        monkeypatch.delenv(key, raising=False)
    acc, device, precision = make_accelerator("cpu", "bf16")
    assert (device, precision) == ("cpu", "bf16") and acc.mixed_precision == "bf16"
    acc, device, precision = make_accelerator("cpu")
    assert (device, precision) == ("cpu", "fp32")


def _train_tiny(base: Path, out: Path, **changes) -> dict:
    from conftest import two_sentences

    from tagger.train import train

    sents = two_sentences() * 2
    settings = {"epochs": 3, **changes}  # the GPU test trains longer
    cfg = TrainConfig(base=str(base), head="linear", lr=5e-3, head_lr=5e-3, batch_size=2, warmup_ratio=0.0,
                      max_length=64, **settings)
    result = train(cfg, sents, sents[:2], out)
    meta = json.loads((out / "tagger.json").read_text())
    epochs = list(range(1, settings["epochs"] + 1))
    assert [h["epoch"] for h in meta["history"]] == epochs and len(result.history) == len(epochs)
    return meta


def test_device_run_records_device_precision_and_history(tiny_base: Path, tmp_path: Path) -> None:
    meta = _train_tiny(tiny_base, tmp_path / "model", device="cpu")
    assert (meta["device"], meta["precision"]) == ("cpu", "fp32")
    first = meta["history"][0]
    assert {"epoch", "loss", "dev_f1", "dev_precision", "dev_recall", "seconds"} <= set(first)
    assert meta["loop_seconds"] <= meta["wall_seconds"]


def test_device_step_events_carry_the_step_loss(tiny_base: Path, tmp_path: Path) -> None:
    from conftest import two_sentences

    from tagger.train import train

    events = []
    cfg = TrainConfig(base=str(tiny_base), head="linear", epochs=1, lr=5e-3, batch_size=1, max_length=64, device="cpu",
                      doc_context=False)
    train(cfg, two_sentences() * 2, two_sentences(), tmp_path / "m", callback=events.append)
    steps = [e for e in events if e.kind == "step"]
    assert len(steps) == 4 and all(e.step_loss is not None and e.step_loss > 0 for e in steps)
    # the running mean of the epoch is the mean of the step losses so far
    assert steps[1].loss == pytest.approx((steps[0].step_loss + steps[1].step_loss) / 2)


# ------------------------------------------------------------------------------------ on a GPU
@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("precision", ["auto", "fp16"])
def test_device_gpu_training_and_tagging(tiny_base: Path, tmp_path: Path, precision: str) -> None:
    """Training with device=auto runs on CUDA (bf16 where supported; fp16 with loss scaling when
    asked), records it, and the Predictor tags on the GPU with the same labels as on the CPU."""
    from tagger.predict import Predictor

    meta = _train_tiny(tiny_base, tmp_path / "model", epochs=20, precision=precision)
    assert meta["device"].startswith("cuda")
    expected = resolve_device("auto")[1] if precision == "auto" else precision
    assert meta["precision"] == expected
    gpu = Predictor.from_dir(tmp_path / "model")
    assert gpu.device.type == "cuda"
    cpu = Predictor.from_dir(tmp_path / "model", device="cpu")
    words = [["Angela", "Merkel", "visited", "Paris", "today", "."], ["John", "lives", "in", "Berlin", "now"]]
    on_gpu, on_cpu = gpu.tag_words(words), cpu.tag_words(words)
    assert [[label for label, _ in s] for s in on_gpu] == [[label for label, _ in s] for s in on_cpu]
    assert all(abs(a[1] - b[1]) < 1e-3 for s, t in zip(on_gpu, on_cpu) for a, b in zip(s, t))


@pytest.mark.gpu
@needs_cuda
def test_device_gpu_then_cpu_in_one_process(tiny_base: Path, tmp_path: Path) -> None:
    assert _train_tiny(tiny_base, tmp_path / "a")["device"].startswith("cuda")
    assert _train_tiny(tiny_base, tmp_path / "b", device="cpu")["device"] == "cpu"


@pytest.mark.unit
def test_device_cli_takes_device_and_names_a_missing_one(tiny_tagger: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from support import DEV_FILE

    from tagger.cli import main

    assert main(["evaluate", "--data", str(DEV_FILE), "--model", str(tiny_tagger), "--device", "cpu", "--json"]) == 0
    assert "f1" in json.loads(capsys.readouterr().out)
    assert main(["evaluate", "--data", str(DEV_FILE), "--model", str(tiny_tagger), "--device", "gpu"]) == 2
    assert "device must be one of auto, cpu, cuda, cuda:N, mps; got 'gpu'" in capsys.readouterr().err
    if not torch.cuda.is_available():
        args = ["train", "--train", str(DEV_FILE), "--base", str(tiny_tagger), "--head", "linear", "--device", "cuda",
                "--out", str(tmp_path / "m")]
        assert main(args) == 2
        assert "device 'cuda' asked for, but CUDA is not available" in capsys.readouterr().err
        assert not (tmp_path / "m").exists()
