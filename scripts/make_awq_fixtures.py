#!/usr/bin/env python3
"""Golden AWQ fixtures for tests/model/test_awq_fixtures.cpp.

Random nn.Linear layers are fake-quantized with AutoAWQ's own
AwqQuantizer.pseudo_quantize_tensor and packed with WQLinear_GEMM.from_linear /
WQLinear_GEMV.from_linear (AutoAWQ 0.2.9). The expected dequantized weights
come from AutoAWQ's torch code: packing_utils.dequantize_gemm for GEMM (an fp16
product), and (q - z) * s in fp32 from the unpacked integers for GEMV (the GEMV
kernel's arithmetic). Output: tests/data/model/awq_{gemm,gemv}_fixtures.safetensors.

Needs torch, safetensors and `pip install --no-deps autoawq==0.2.9` (the
package's heavy imports are bypassed: only its packing code is loaded).
Run: PYTHON=/work/refenv/bin/python; $PYTHON scripts/make_awq_fixtures.py
"""
import importlib.util
import json
import os
import sys
import types

try:
    import torch
    from safetensors.torch import save_file
except ImportError as e:
    sys.exit(f"make_awq_fixtures.py needs torch and safetensors ({e})")

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "model")


def load_autoawq():
    """Imports AutoAWQ's quantizer and linear modules without awq/__init__.py,
    which pulls in transformers/accelerate/CUDA extensions not needed here."""
    spec = importlib.util.find_spec("awq")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("AutoAWQ is missing: pip install --no-deps autoawq==0.2.9")
    root = spec.submodule_search_locations[0]

    def package(name, path):
        m = types.ModuleType(name)
        m.__path__ = [path]
        sys.modules[name] = m
        return m

    def stub(name, **attrs):
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        sys.modules[name] = m

    package("awq", root)
    package("awq.utils", os.path.join(root, "utils"))
    package("awq.quantize", os.path.join(root, "quantize"))
    package("awq.modules", os.path.join(root, "modules"))
    linear = package("awq.modules.linear", os.path.join(root, "modules", "linear"))
    stub("awq.utils.utils", get_best_device=lambda: "cpu", clear_memory=lambda *a, **k: None)
    stub("awq.utils.calib_data", get_calib_dataset=None)
    stub("awq.quantize.scale", apply_scale=None, apply_clip=None)
    import awq.modules.linear.gemm as gemm
    import awq.modules.linear.gemv as gemv
    linear.WQLinear_GEMM = gemm.WQLinear_GEMM
    linear.WQLinear_GEMV = gemv.WQLinear_GEMV
    linear.WQLinear_Marlin = linear.WQLinear_GEMVFast = None
    import awq.quantize.quantizer as quantizer
    import awq.utils.packing_utils as packing
    return quantizer.AwqQuantizer, gemm.WQLinear_GEMM, gemv.WQLinear_GEMV, packing


AwqQuantizer, WQLinear_GEMM, WQLinear_GEMV, packing_utils = load_autoawq()


def fake_quantizer(group_size):
    q = object.__new__(AwqQuantizer)
    q.w_bit, q.group_size, q.zero_point = 4, group_size, True
    return q


# (name, layout, in_features, out_features, group_size, bias)
CASES = [
    ("gemm_g32_bias", "gemm", 128, 64, 32, True),
    ("gemm_g64", "gemm", 256, 96, 64, False),  # AutoAWQ packs GEMM columns 32 at a time
    ("gemm_g128", "gemm", 384, 32, 128, False),
    ("gemv_g32", "gemv", 160, 64, 32, False),  # 5 groups: zeros width 4, scales padded to 32
    ("gemv_g64_bias", "gemv", 192, 48, 64, True),
    ("gemv_g128", "gemv", 384, 32, 128, False),
]


def make_linear(case_index, in_f, out_f, group, bias):
    g = torch.Generator().manual_seed(1000 + case_index)
    lin = torch.nn.Linear(in_f, out_f, bias=bias)
    w = torch.randn(out_f, in_f, generator=g) * 0.05
    # Extreme groups: all positive (zero point 0) and all negative (zero point 15).
    w[0, :group] = w[0, :group].abs() + 0.01
    w[1, group:2 * group] = -w[1, group:2 * group].abs() - 0.01
    lin.weight.data = w
    if bias:
        lin.bias.data = torch.randn(out_f, generator=g) * 0.1
    return lin.half()  # AutoAWQ quantizes fp16 layers


def unpack_sequential(words, count):
    shifts = torch.arange(0, 32, 4, dtype=torch.int32)
    nibbles = torch.bitwise_and(torch.bitwise_right_shift(words[:, :, None], shifts), 15)
    return nibbles.reshape(words.shape[0], -1)[:, :count]


def build_case(index, name, layout, in_f, out_f, group, bias):
    lin = make_linear(index, in_f, out_f, group, bias)
    wq, scales, zeros = fake_quantizer(group).pseudo_quantize_tensor(lin.weight.data)
    lin.weight.data = wq
    assert int(zeros.min()) == 0 and int(zeros.max()) == 15, "fixture must cover zero points 0 and 15"
    groups = in_f // group
    if layout == "gemm":
        q = WQLinear_GEMM.from_linear(lin, 4, group, scales=scales.t().contiguous(), zeros=zeros.t().contiguous())
        expected = packing_utils.dequantize_gemm(q.qweight, q.qzeros, q.scales, 4, group).float().t()
    else:
        q = WQLinear_GEMV.from_linear(lin, 4, group, scales=scales, zeros=zeros)
        iw = unpack_sequential(q.qweight, in_f)
        iz = unpack_sequential(q.qzeros, groups).repeat_interleave(group, dim=1)
        s = q.scales[:, :groups].float().repeat_interleave(group, dim=1)
        expected = (iw - iz).float() * s
    assert bool((q.qweight < 0).any()), "fixture must contain negative int32 words"
    # Sanity: what AutoAWQ packed decodes to its own fake-quantized weights.
    assert torch.allclose(expected, wq.float(), atol=1e-3), name
    tensors = {
        f"{name}.qweight": q.qweight.contiguous(),
        f"{name}.qzeros": q.qzeros.contiguous(),
        f"{name}.scales": q.scales.contiguous(),
        f"{name}.expected_weight": expected.contiguous(),
    }
    if bias:
        tensors[f"{name}.bias"] = q.bias.contiguous()
        tensors[f"{name}.expected_bias"] = lin.bias.data.float().contiguous()
    return tensors


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for layout in ("gemm", "gemv"):
        tensors, cases = {}, {}
        for i, (name, lay, in_f, out_f, group, bias) in enumerate(CASES):
            if lay != layout:
                continue
            tensors.update(build_case(i, name, lay, in_f, out_f, group, bias))
            cases[name] = {"in_features": in_f, "out_features": out_f, "group_size": group, "bias": bias}
        path = os.path.join(OUT_DIR, f"awq_{layout}_fixtures.safetensors")
        save_file(tensors, path, metadata={"cases": json.dumps(cases), "source": "AutoAWQ 0.2.9 from_linear"})
        print(f"wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
