"""A tiny Piper voice made on the spot: an ONNX model with Piper's inputs and outputs, and its config.

Its "speech" is a tone whose length is the phoneme count times 256 samples times length_scale, so rate
mapping shows in the clip's length, and the output never depends on noise: it is deterministic.
"""

from __future__ import annotations

import json
from pathlib import Path

HOP = 256
SYMBOLS = " abcdefghijklmnopqrstuvwxyz.,!?'-0123456789"


def tiny_model_bytes(input_names=("input", "input_lengths", "scales"), tone: float = 0.3) -> bytes:
    """The serialized ONNX model: input [1, n] int64, input_lengths [1] int64, scales [3] float -> output."""
    import onnx
    from onnx import TensorProto, helper

    first, lengths, scales = input_names
    nodes = [
        helper.make_node("Cast", [lengths], ["len_f"], to=TensorProto.FLOAT),
        helper.make_node("Gather", [scales, "one"], ["length_scale"], axis=0),
        helper.make_node("Mul", ["len_f", "length_scale"], ["scaled"]),
        helper.make_node("Mul", ["scaled", "hop"], ["frames_v"]),
        helper.make_node("Floor", ["frames_v"], ["frames_f"]),
        helper.make_node("ReduceMax", ["frames_f"], ["limit"], keepdims=0),
        helper.make_node("Range", ["zero", "limit", "step"], ["t"]),
        helper.make_node("Mul", ["t", "freq"], ["phase"]),
        helper.make_node("Sin", ["phase"], ["wave"]),
        helper.make_node("Mul", ["wave", "amp"], ["loud"]),
        helper.make_node("Reshape", ["loud", "shape"], ["output"]),
    ]
    consts = [
        helper.make_tensor("one", TensorProto.INT64, [], [1]),
        helper.make_tensor("hop", TensorProto.FLOAT, [], [float(HOP)]),
        helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
        helper.make_tensor("step", TensorProto.FLOAT, [], [1.0]),
        helper.make_tensor("freq", TensorProto.FLOAT, [], [0.0628]),  # about 220 Hz at 22050 Hz
        helper.make_tensor("amp", TensorProto.FLOAT, [], [tone]),
        helper.make_tensor("shape", TensorProto.INT64, [4], [1, 1, 1, -1]),
    ]
    graph = helper.make_graph(
        nodes, "tiny-piper",
        [helper.make_tensor_value_info(first, TensorProto.INT64, [1, None]),
         helper.make_tensor_value_info(lengths, TensorProto.INT64, [1]),
         helper.make_tensor_value_info(scales, TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, 1, None])],
        initializer=consts,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def tiny_config(sample_rate: int = 22050, language: str = "en_US") -> dict:
    """A Piper voice config whose phonemes are the letters of the text itself."""
    ids = {"_": [0], "^": [1], "$": [2]}
    ids.update({ch: [i + 3] for i, ch in enumerate(SYMBOLS)})
    return {
        "audio": {"sample_rate": sample_rate, "quality": "x_low"},
        "espeak": {"voice": language.lower().replace("_", "-")},
        "inference": {"noise_scale": 0.667, "length_scale": 1, "noise_w": 0.8},
        "phoneme_type": "text",
        "phoneme_id_map": ids,
        "num_symbols": len(ids),
        "num_speakers": 1,
        "language": {"code": language},
    }


def make_voice(folder: Path, name: str = "en_US-tiny-x_low", card: str | None = "* License: CC0 (test)\n",
               **config) -> Path:
    """Write NAME.onnx, NAME.onnx.json and a MODEL_CARD into folder; returns the model's path."""
    folder.mkdir(parents=True, exist_ok=True)
    model = folder / f"{name}.onnx"
    model.write_bytes(tiny_model_bytes())
    (folder / f"{name}.onnx.json").write_text(json.dumps(tiny_config(**config)), encoding="utf-8")
    if card is not None:
        (folder / "MODEL_CARD").write_text(card, encoding="utf-8")
    return model
