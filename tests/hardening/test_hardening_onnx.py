"""A failed ONNX export removes its temporary folder, whichever step fails (issue 16.7)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch

from retrieval import onnx_embedding
from retrieval.onnx_embedding import export_folder, export_onnx


class FakeTokenizer:
    """Just enough of a Hugging Face tokenizer for export_onnx."""

    def __init__(self, save: Any) -> None:
        self.backend_tokenizer = SimpleNamespace(save=save)

    def __call__(self, texts: list[str], return_tensors: str) -> dict[str, torch.Tensor]:
        ids = torch.ones((1, 4), dtype=torch.long)
        return {"input_ids": ids, "attention_mask": ids, "token_type_ids": ids * 0}


class FakeSentenceTransformer:
    """A loaded SentenceTransformer as export_onnx sees it."""

    max_seq_length = 16

    def __init__(self, save: Any = None, config: Any = None) -> None:
        self.tokenizer = FakeTokenizer(save or (lambda path: Path(path).write_text("{}", encoding="utf-8")))
        model = torch.nn.Identity()
        model.config = config if config is not None else SimpleNamespace(hidden_size=8)  # type: ignore[assignment]
        self.module = SimpleNamespace(auto_model=model)

    def __getitem__(self, i: int) -> Any:
        return self.module


def write_model(wrapper: Any, args: Any, path: str, **kwargs: Any) -> None:
    """Stands in for torch.onnx.export: the file appears, as a real export's would."""
    Path(path).write_bytes(b"onnx")


def fail_export(wrapper: Any, args: Any, path: str, **kwargs: Any) -> None:
    Path(path).write_bytes(b"half an onnx file")
    raise RuntimeError("Exporting the operator is not supported")


def fail_save(path: str) -> None:
    raise OSError(28, "No space left on device")


def fail_replace(src: Any, dst: Any) -> None:
    raise OSError(13, "Permission denied")


@pytest.mark.parametrize(
    "failure",
    ["export raises", "tokenizer save fails", "model has no config", "rename fails", "interrupted"],
)
def test_a_failed_export_leaves_no_temporary_folder(
    failure: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = export_folder(tmp_path / "idx", "some-model")
    model = FakeSentenceTransformer()
    monkeypatch.setattr(torch.onnx, "export", write_model)
    expected: type[BaseException] = OSError
    if failure == "export raises":
        monkeypatch.setattr(torch.onnx, "export", fail_export)
        expected = RuntimeError
    elif failure == "tokenizer save fails":
        model = FakeSentenceTransformer(save=fail_save)
    elif failure == "model has no config":
        model = FakeSentenceTransformer(config=SimpleNamespace())
        expected = AttributeError
    elif failure == "rename fails":
        monkeypatch.setattr(onnx_embedding.os, "replace", fail_replace)
    else:

        def interrupt(*args: Any, **kwargs: Any) -> None:
            raise KeyboardInterrupt

        monkeypatch.setattr(torch.onnx, "export", interrupt)
        expected = KeyboardInterrupt
    for _ in range(3):  # one leftover per failed run was the bug: run it a few times
        with pytest.raises(expected):
            export_onnx(model, "some-model", folder)
    assert list(folder.parent.iterdir()) == [], "a failed export left files behind"


def test_a_successful_export_leaves_only_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = export_folder(tmp_path / "idx", "some-model")
    monkeypatch.setattr(torch.onnx, "export", write_model)
    export_onnx(FakeSentenceTransformer(), "some-model", folder)
    export_onnx(FakeSentenceTransformer(), "some-model", folder)  # replaces the first
    assert list(folder.parent.iterdir()) == [folder]
    assert sorted(p.name for p in folder.iterdir()) == ["meta.json", "model.onnx", "tokenizer.json"]


def test_a_failed_export_logs_one_short_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A folder name that is not UTF-8 made torch's exporter put every weight tensor in its message, and
    the warning printed all of it (733 KB on stderr, a17)."""
    from retrieval import embedding, onnx_embedding

    class Embedder:
        name = "some-model"
        _model = None

        def __init__(self, model: str) -> None:
            pass

    def fail(*_args: object) -> None:
        raise TypeError("_export_onnx(): incompatible function arguments\n" + "tensor([0.1, 0.2])\n" * 50_000)

    monkeypatch.setattr(embedding, "SentenceTransformerEmbedder", Embedder)
    monkeypatch.setattr(onnx_embedding, "export_onnx", fail)
    with caplog.at_level("WARNING"):
        assert isinstance(embedding.load_embedder("some-model", tmp_path / "idx"), Embedder)
    (record,) = [r for r in caplog.records if "Could not export" in r.getMessage()]
    message = record.getMessage()
    assert "incompatible function arguments" in message and "tensor" not in message
    assert len(message) < 400 and "\n" not in message
