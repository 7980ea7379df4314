#!/usr/bin/env python3
"""Cross-checks ONNX files written by the project's exporter with an outside
runtime: the onnx package's checker and ONNX Runtime must accept each model,
and ONNX Runtime's outputs must match `pal run --providers cpu` on the same
input batch within an absolute tolerance. Run by make check-ort (host/ort.mk)
with the Python of the venv that scripts/install-deps.sh --ort-venv makes.

Exit status: 0 all models agree, 1 a check failed, 2 usage error.
"""

import argparse
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort

# Tensor element type FLOAT in onnx.proto; the demo models take FP32 images.
ONNX_FLOAT = 1


def input_batch(images, value_info, count):
    """The first `count` images shaped for the model's input: the batch dim
    is symbolic in the exported models, the others must hold one image."""
    dims = value_info.type.tensor_type.shape.dim
    if len(dims) < 2 or not dims[0].dim_param and dims[0].dim_value != count:
        raise ValueError(f"input '{value_info.name}': the first dim is neither symbolic nor {count}")
    rest = [d.dim_value for d in dims[1:]]
    if any(d <= 0 for d in rest) or int(np.prod(rest)) != images.shape[1]:
        raise ValueError(f"input '{value_info.name}': dims {rest} after the batch do not hold "
                         f"one {images.shape[1]}-value image")
    return np.ascontiguousarray(images[:count].reshape([count] + rest), dtype=np.float32)


def compare(label, got, want, tol):
    """(max |got - want| or None, failure line or None)."""
    if got.shape != want.shape or got.dtype != want.dtype:
        return None, (f"{label}: pal gave {got.dtype}{list(got.shape)}, "
                      f"onnxruntime {want.dtype}{list(want.shape)}")
    if not np.all(np.isfinite(want)) or not np.all(np.isfinite(got)):
        return None, f"{label}: non-finite values (onnxruntime or pal)"
    # With several images, equal rows would mean the comparison says nothing
    # about the model (a dead network, an input that did not arrive).
    if want.shape[0] > 1 and np.all(want == want[:1]):
        return None, f"{label}: onnxruntime gives the same output for every image"
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    diff = float(np.max(err))
    if diff <= tol:
        return diff, None
    worst = np.unravel_index(np.argmax(err), want.shape)
    return diff, (f"{label}: max |diff| {diff:.3e} > {tol:g} at {[int(i) for i in worst]}: "
                  f"pal {float(got[worst])!r}, onnxruntime {float(want[worst])!r}")


def check_model(path, images, pal, work, counts, tol):
    """Returns a list of failure lines for one model (empty when it passes)."""
    failures = []
    name = os.path.splitext(os.path.basename(path))[0]
    # "Loads": the reference checker, with full shape inference, and a session.
    try:
        model = onnx.load(path)
    except Exception as e:  # OSError, or protobuf's DecodeError for a damaged file
        return [f"{path}: onnx cannot read it: {type(e).__name__}: {e}"]
    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as e:
        return [f"{path}: onnx.checker rejects it: {e}"]
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1  # the test machines are small and shared
    try:
        sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # ORT raises its own exception types per cause
        return [f"{path}: onnxruntime cannot load it: {e}"]
    initializers = {t.name for t in model.graph.initializer}
    graph_inputs = [v for v in model.graph.input if v.name not in initializers]
    if len(graph_inputs) != 1 or graph_inputs[0].type.tensor_type.elem_type != ONNX_FLOAT:
        return [f"{path}: expected one FLOAT graph input, found "
                f"{[(v.name, v.type.tensor_type.elem_type) for v in graph_inputs]}"]
    out_names = [o.name for o in sess.get_outputs()]
    print(f"  {path}: onnx.checker ok, onnxruntime session ok "
          f"({len(model.graph.node)} nodes, opset {model.opset_import[0].version}, "
          f"outputs {out_names})")

    for count in counts:
        try:
            x = input_batch(images, graph_inputs[0], count)
        except ValueError as e:
            return [f"{path}: {e}"]
        x_path = os.path.join(work, f"{name}_x{count}.npy")
        np.save(x_path, x)
        expected = sess.run(out_names, {graph_inputs[0].name: x})

        y_paths = [os.path.join(work, f"{name}_y{count}_{i}.npy") for i in range(len(out_names))]
        for p in y_paths:
            if os.path.exists(p):
                os.remove(p)  # a stale file must not stand in for pal's output
        cmd = [pal, "run", path, "--input", x_path, "--providers", "cpu", "--no-fallback", "--quiet"]
        for p in y_paths:
            cmd += ["--output", p]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0:
            failures.append(f"{path}: batch {count}: `{' '.join(cmd)}` exited {run.returncode}: "
                            f"{(run.stderr or run.stdout).strip()}")
            continue

        for out, want, y_path in zip(out_names, expected, y_paths):
            label = f"{name} '{out}' batch {count}"
            got = np.load(y_path)
            diff, failure = compare(label, got, want, tol)
            if failure is None:
                # Negative control on these very tensors: one element moved
                # by three times the tolerance must be caught.
                bad = got.copy()
                bad.flat[bad.size // 2] += np.float32(3 * tol)
                if compare(label, bad, want, tol)[1] is None:
                    failure = f"{label}: the comparison missed a {3 * tol:g} error (negative control)"
            if diff is not None:
                print(f"    {label}: max |pal - ort| = {diff:.3e} (max |ort| "
                      f"{float(np.max(np.abs(want))):.3g}, tolerance {tol:g}) "
                      f"{'ok' if failure is None else 'FAIL'}")
            if failure is not None:
                failures.append(failure)
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pal", required=True, help="the pal CLI (build/bin/pal)")
    ap.add_argument("--images", required=True,
                    help=".npy of FP32 images, one per row (the trainer's x_test.npy)")
    ap.add_argument("--work", required=True, help="folder for the .npy files exchanged with pal")
    ap.add_argument("--count", type=int, default=16, help="images per batch (also run with 1)")
    ap.add_argument("--tol", type=float, default=1e-4, help="max absolute difference")
    ap.add_argument("models", nargs="+", help="ONNX files")
    args = ap.parse_args()
    if args.count < 1:
        ap.error("--count must be >= 1")

    images = np.load(args.images, mmap_mode="r")
    if images.ndim != 2 or images.dtype != np.float32 or images.shape[0] < args.count:
        print(f"ort_check: {args.images}: need at least {args.count} FP32 rows, "
              f"got {images.dtype}{list(images.shape)}", file=sys.stderr)
        return 1
    os.makedirs(args.work, exist_ok=True)
    print(f"ort_check: onnxruntime {ort.__version__}, onnx {onnx.__version__}, "
          f"numpy {np.__version__}; {args.images}")
    counts = sorted({args.count, 1}, reverse=True)
    failures = []
    for path in args.models:
        failures += check_model(path, images, args.pal, args.work, counts, args.tol)
    for f in failures:
        print(f"ort_check: FAIL: {f}", file=sys.stderr)
    print(f"ort_check: {len(args.models)} models, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
