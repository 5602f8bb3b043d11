#!/usr/bin/env python3
"""Checks keel's ONNX files with the ONNX project's own checker (Debian python3-onnx).

Usage: /usr/bin/python3 scripts/check-onnx.py model.onnx [more.onnx ...]
Runs onnx.checker.check_model with full_check (shape inference included) on each file and prints
its opset, inputs and outputs; exits 1 if any file is refused. Not needed by the tests, which run
the files in onnxruntime instead.
"""
import sys

import onnx

bad = 0
for path in sys.argv[1:]:
    model = onnx.load(path)
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as e:  # the checker raises ValidationError / InferenceError
        bad += 1
        print(f"{path}: REFUSED: {e}")
        continue
    g = model.graph
    dims = lambda v: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
    print(
        f"{path}: ok (ir {model.ir_version}, opset {model.opset_import[0].version}, {len(g.node)} nodes, "
        f"input {dims(g.input[0])}, output {dims(g.output[0])})"
    )
sys.exit(1 if bad else 0)
