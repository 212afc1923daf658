"""Embedding precisions other than fp32: opt-in, faster index-time embedding passes (issue 13).

int8 is a dynamic int8 copy of the ONNX export; bf16 runs the torch model in bfloat16 (AMX on CPUs
that have it). Their vectors differ from fp32 ones (cosine about 0.993 for int8, 0.9999 for bf16),
so the precision is part of the embedder's name: an index records it, an index of one precision is
never extended with vectors of another (the name differs, so everything is embedded again), and
questions are embedded with the embedder the index's precision names.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

FP32 = "fp32"
INT8 = "int8"
BF16 = "bf16"
PRECISIONS = (FP32, INT8, BF16)


def check_precision(precision: str) -> str:
    """The precision, once it is one usru can embed at."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown embedding precision {precision!r} (known: {', '.join(PRECISIONS)})")
    return precision


def precise_name(model_name: str, precision: str) -> str:
    """The embedder name an index records: the model's, marked when its vectors are not fp32."""
    return model_name if check_precision(precision) == FP32 else f"{model_name} [{precision}]"


def split_name(embedder_name: str) -> tuple[str, str]:
    """(model name, precision) of an embedder name an index recorded."""
    for precision in PRECISIONS[1:]:
        suffix = f" [{precision}]"
        if embedder_name.endswith(suffix):
            return embedder_name.removesuffix(suffix), precision
    return embedder_name, FP32


def int8_folder(fp32_folder: Path) -> Path:
    """Where the int8 copy of an export lives: beside it."""
    return fp32_folder.with_name(fp32_folder.name + "-int8")


def write_int8(fp32: Path, folder: Path) -> None:
    """Write an int8 copy of the export in `fp32` into `folder` (MatMul weights, per channel)."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = folder.parent / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir(parents=True)
    # The quantizer logs advice to pre-process on the root logger; measured, it changes nothing here.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        # Per channel, MatMul only: cosine to fp32 0.9935 on real text; the defaults gave 0.944 (STACK-NOTES).
        quantize_dynamic(
            fp32 / "model.onnx",
            tmp / "model.onnx",
            per_channel=True,
            op_types_to_quantize=["MatMul"],
            weight_type=QuantType.QInt8,
        )
        shutil.copy2(fp32 / "tokenizer.json", tmp / "tokenizer.json")
        from retrieval.onnx_embedding import file_digests

        meta = json.loads((fp32 / "meta.json").read_text(encoding="utf-8"))
        meta |= {"precision": INT8, "sha256": file_digests(tmp)}
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        root.setLevel(level)
