"""The torch device a job runs on, from the config's ``device`` (auto | cpu | cuda)."""

from __future__ import annotations

import torch


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    elif name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("config device is 'cuda' but torch sees no CUDA device")
    else:
        device = torch.device(name)
    if device.type == "cuda":
        full_float32()
    return device


def full_float32() -> None:
    """Have a GPU's float32 matmuls and convolutions keep float32's precision (process-wide).

    By default torch lets cuDNN's convolutions (not its matmuls) round their inputs to
    TF32's 10-bit mantissa on GPUs that have it: LeNet's losses would then differ from the
    CPU's by about 1e-3 relative, where the study compares L-BFGS-GSS losses down to 1e-7
    and path heights to a few digits. float32 throughout costs the convolutions speed,
    which bench/gpu_check.py measures.
    """
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
