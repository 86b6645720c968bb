#!/usr/bin/env python3
"""Checks awq-gguf-convert against independent references, and writes the goldens of its unit tests.

Modes (run with $PYTHON, which needs numpy, torch, transformers, tokenizers, gguf, safetensors;
transformers' GGUF loader also needs accelerate):

  goldens    writes tests/data/gguf/blocks.json (gguf-py's quants.dequantize of random blocks of every
             type the converter reads) and tests/data/gguf/quantize_rtn.json (AutoAWQ's
             pseudo_quantize_tensor, run in torch fp16 on random weights).
  weights    converts the GGUF with --no-quantize and checks that every fp16 weight equals
             transformers' own GGUF dequantization (incl. the Q/K un-permutation) rounded to fp16,
             and that the logits match; then converts to AWQ with each --group-size and reports the
             logits error of the dequantized AWQ model against the unquantized GGUF model.
  tokenizer  encodes a few hundred varied lines with our tokenizer.json (tokenizers package) and with
             transformers' tokenizer built from the GGUF, and reports every mismatch.
  all        weights + tokenizer.

Everything runs on the CPU. Example:
  PYTHON=/work/refenv/bin/python $PYTHON scripts/verify_conversion.py all \
      --gguf models/SmolLM2-135M-Instruct.Q4_1.gguf --converter build/tools/gguf_convert/awq-gguf-convert
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data" / "gguf"

try:
    import numpy as np
    import torch
    import gguf
    from gguf import GGMLQuantizationType as QT
except ImportError as e:  # pragma: no cover - environment problem, not a test result
    sys.exit(f"verify_conversion.py: missing Python package ({e}); install numpy, torch, gguf, "
             "transformers, tokenizers, safetensors and accelerate")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- goldens

# Byte offsets of the fp16 fields (d, m, dmin) of each block type: random bytes elsewhere exercise
# every bit of the packed quants and scales, while these get finite, realistic values.
HALF_FIELDS = {
    QT.Q4_0: [0], QT.Q4_1: [0, 2], QT.Q5_0: [0], QT.Q5_1: [0, 2], QT.Q8_0: [0],
    QT.Q4_K: [0, 2], QT.Q5_K: [0, 2], QT.Q6_K: [208],
}


def random_blocks(qtype, n_blocks, rng):
    elems, nbytes = gguf.GGML_QUANT_SIZES[qtype]
    if qtype == QT.F16:
        return rng.standard_normal(n_blocks).astype(np.float16).view(np.uint8)
    if qtype == QT.BF16:
        f = rng.standard_normal(n_blocks).astype(np.float32)
        return (f.view(np.uint32) >> 16).astype(np.uint16).view(np.uint8)
    raw = rng.integers(0, 256, size=(n_blocks, nbytes), dtype=np.uint8)
    for off in HALF_FIELDS[qtype]:
        vals = (rng.uniform(0.001, 0.1, n_blocks) * rng.choice([-1, 1], n_blocks)).astype(np.float16)
        raw[:, off:off + 2] = vals.view(np.uint8).reshape(n_blocks, 2)
    return raw.reshape(-1)


def write_block_goldens(rng):
    cases = []
    for qtype in [QT.F16, QT.BF16, QT.Q4_0, QT.Q4_1, QT.Q5_0, QT.Q5_1, QT.Q8_0, QT.Q4_K, QT.Q5_K, QT.Q6_K]:
        elems, _ = gguf.GGML_QUANT_SIZES[qtype]
        n_blocks = 64 if elems == 1 else (3 if elems == 256 else 8)
        raw = random_blocks(qtype, n_blocks, rng)
        values = gguf.quants.dequantize(raw, qtype).astype(np.float32).reshape(-1)
        cases.append({"type": qtype.name, "type_id": int(qtype), "n": int(values.size),
                      "hex": raw.tobytes().hex(), "values": [float(v) for v in values]})
    sizes = {t.name: {"id": int(t), "block_elems": e, "block_bytes": b}
             for t, (e, b) in gguf.GGML_QUANT_SIZES.items()}
    out = DATA / "blocks.json"
    out.write_text(json.dumps({"source": "gguf-py quants.dequantize " + gguf_version(),
                               "type_sizes": sizes, "cases": cases}) + "\n")
    log(f"wrote {out.relative_to(REPO)} ({out.stat().st_size} bytes)")


def gguf_version():
    try:
        from importlib.metadata import version
        return version("gguf")
    except Exception:
        return "?"


def autoawq_pseudo_quantize(w16, group):
    """AutoAWQ quantizer.py pseudo_quantize_tensor (zero_point, 4 bit) on an fp16 tensor."""
    shape = w16.shape
    w = w16.reshape(-1, group)
    max_val = w.amax(dim=1, keepdim=True)
    min_val = w.amin(dim=1, keepdim=True)
    scales = (max_val - min_val).clamp(min=1e-5) / 15
    zeros = (-torch.round(min_val / scales)).clamp_(0, 15)
    q = torch.clamp(torch.round(w / scales) + zeros, 0, 15)
    w_fake = ((q - zeros) * scales).reshape(shape)
    # WQLinear_GEMM.from_linear re-derives the integers from the fake-quantized weights.
    s_rows, z_rows = scales.view(shape[0], -1), zeros.view(shape[0], -1)
    idx = torch.arange(shape[1]) // group
    intweight = torch.round((w_fake + (z_rows * s_rows)[:, idx]) / s_rows[:, idx]).to(torch.int32)
    assert torch.equal(intweight, q.reshape(shape).to(torch.int32)), "from_linear disagrees with the quantizer"
    return q.reshape(shape).to(torch.int32), z_rows.to(torch.int32), s_rows, w_fake


def write_quantize_goldens(rng):
    cases = []
    for out_f, in_f, group in [(24, 256, 64), (16, 192, 32), (8, 128, 128)]:
        w = rng.standard_normal((out_f, in_f)) * rng.uniform(0.002, 0.5, size=(out_f, 1))
        w = w.astype(np.float32)
        w[0, :group] = 0.0                      # empty range: scale from the 1e-5 clamp
        w[1, :group] = 0.3                      # constant group: min/scale overflows fp16
        w[2, :group] = np.abs(w[2, :group])     # all positive: zero point clamps to 0
        w[3, :group] = -np.abs(w[3, :group])    # all negative: zero point clamps to 15
        q, z, s, _ = autoawq_pseudo_quantize(torch.from_numpy(w).half(), group)
        cases.append({"out": out_f, "in": in_f, "group_size": group,
                      "w": [float(v) for v in w.reshape(-1)],
                      "q": q.reshape(-1).tolist(), "zeros": z.reshape(-1).tolist(),
                      "scales_f16_bits": s.contiguous().view(torch.int16).reshape(-1).numpy()
                      .astype(np.uint16).tolist()})
    out = DATA / "quantize_rtn.json"
    out.write_text(json.dumps({"source": f"AutoAWQ pseudo_quantize_tensor in torch {torch.__version__} "
                               "fp16 on CPU", "cases": cases}) + "\n")
    log(f"wrote {out.relative_to(REPO)} ({out.stat().st_size} bytes)")


def mode_goldens(_args):
    DATA.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20240611)
    write_block_goldens(rng)
    write_quantize_goldens(rng)


# ----------------------------------------------------------------------------- weights

PROMPTS = [
    "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n",
    "The quick brown fox jumps over the lazy dog. In 1969, 3 astronauts flew to the Moon.",
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
    "Gravity is the force by which a planet or other body draws objects toward its center.",
]

AWQ_REVERSE_ORDER = [0, 4, 1, 5, 2, 6, 3, 7]


def run_converter(args, out_dir, *extra):
    cmd = [str(args.converter), str(args.gguf), str(out_dir), *extra]
    log("$", " ".join(cmd))
    subprocess.run(cmd, check=True)


def unpack_awq_gemm(qweight, qzeros, scales):
    """nn.Linear weight [OC, IC] from AutoAWQ GEMM tensors, computed as the kernel does:
    (q - z) exact, times the fp16 scale, rounded to fp16."""
    def unpack(words):  # int32 [R, OC/8] -> int [R, OC]
        w = words.astype(np.uint32)
        cols = [(w >> np.uint32(4 * AWQ_REVERSE_ORDER[k])) & np.uint32(15) for k in range(8)]
        return np.stack(cols, axis=-1).reshape(words.shape[0], -1).astype(np.int32)
    q, z = unpack(qweight), unpack(qzeros)
    group = q.shape[0] // z.shape[0]
    z_full, s_full = np.repeat(z, group, axis=0), np.repeat(scales.astype(np.float32), group, axis=0)
    return ((q - z_full).astype(np.float32) * s_full).astype(np.float16).T


def check_against_autoawq(model_dir, ref_state, group):
    """Our packed AWQ weights, dequantized, must equal AutoAWQ's fake-quantized fp16 weights of the
    same (un-permuted) GGUF weights: proves quantizer, packing and tensor naming together."""
    from safetensors.numpy import load_file
    raw = load_file(str(model_dir / "model.safetensors"))
    worst, count = 0.0, 0
    for name in raw:
        if not name.endswith(".qweight"):
            continue
        p = name[: -len(".qweight")]
        ours = unpack_awq_gemm(raw[name], raw[p + ".qzeros"], raw[p + ".scales"]).astype(np.float32)
        want = autoawq_pseudo_quantize(ref_state[p + ".weight"].half(), group)[3].float().numpy()
        worst = max(worst, float(np.abs(ours - want).max()))
        count += 1
    log(f"AWQ group {group}: {count} linears vs AutoAWQ RTN of the GGUF weights: max abs difference {worst:g}")
    if worst != 0.0:
        raise SystemExit("FAIL: AWQ weights differ from AutoAWQ's quantization")


def load_our_model(model_dir):
    """An HF LlamaForCausalLM (fp32) from our config.json, with our weights, AWQ ones dequantized."""
    from safetensors.numpy import load_file
    from transformers import LlamaConfig, LlamaForCausalLM
    cfg = json.loads((model_dir / "config.json").read_text())
    cfg.pop("quantization_config", None)
    model = LlamaForCausalLM(LlamaConfig(**cfg)).eval()
    raw = load_file(str(model_dir / "model.safetensors"))
    state = {}
    for name, t in raw.items():
        if name.endswith(".qweight"):
            p = name[: -len(".qweight")]
            state[p + ".weight"] = unpack_awq_gemm(t, raw[p + ".qzeros"], raw[p + ".scales"])
        elif not name.endswith((".qzeros", ".scales")):
            state[name] = t
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v).astype(np.float32)) for k, v in state.items()}
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    missing = [m for m in missing if m != "lm_head.weight" or not cfg.get("tie_word_embeddings")]
    if missing or unexpected:
        raise SystemExit(f"weights do not fit the model: missing {missing}, unexpected {unexpected}")
    model.tie_weights()
    return model


def reference_model(args):
    from transformers import AutoModelForCausalLM
    return AutoModelForCausalLM.from_pretrained(str(args.gguf.parent), gguf_file=args.gguf.name,
                                                dtype=torch.float32).eval()


def prompt_ids(model_dir):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    return [torch.tensor([tok.encode(p, add_special_tokens=False).ids]) for p in PROMPTS]


@torch.no_grad()
def logits_error(model, ref, ids_list):
    num = den = 0.0
    agree = total = 0
    for ids in ids_list:
        a, b = model(ids).logits.double(), ref(ids).logits.double()
        num += float(((a - b) ** 2).sum())
        den += float((b ** 2).sum())
        agree += int((a.argmax(-1) == b.argmax(-1)).sum())
        total += ids.shape[1]
    return (num / den) ** 0.5, agree / total


def mode_weights(args):
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    ref = reference_model(args)
    ref_state = ref.state_dict()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "fp16"
        run_converter(args, plain, "--no-quantize")
        ids = prompt_ids(plain)
        ours = load_our_model(plain)
        worst = 0.0
        for name, w in ours.state_dict().items():
            expect = ref_state[name].half().float()
            worst = max(worst, float((w - expect).abs().max()))
        log(f"fp16 weights vs transformers GGUF weights rounded to fp16: max abs difference {worst:g}")
        if worst != 0.0:
            raise SystemExit("FAIL: --no-quantize weights differ from transformers' GGUF dequantization")
        err, top1 = logits_error(ours, ref, ids)
        results["fp16"] = err
        log(f"fp16 (--no-quantize) logits rel. error vs GGUF model: {err:.2e}, top-1 agreement {top1:.1%}")
        if err > 1e-2:
            raise SystemExit("FAIL: fp16 logits do not match the GGUF model")
        for group in args.group_sizes:
            out = Path(tmp) / f"g{group}"
            run_converter(args, out, "--group-size", str(group))
            check_against_autoawq(out, ref_state, group)
            err, top1 = logits_error(load_our_model(out), ref, ids)
            results[f"awq_g{group}"] = err
            log(f"AWQ group {group}: logits rel. error vs GGUF model {err:.4f}, top-1 agreement {top1:.1%}")
    print(json.dumps(results))


# ----------------------------------------------------------------------------- tokenizer

def corpus(n_lines=400):
    rng = random.Random(7)
    pieces = [
        "Hello world", "hello   world", " leading space", "trailing space ", "tabs\tand\ttabs", "line\nbreak",
        "crlf\r\nline", "\n\n\n", "   ", "DON'T you're we'll I'd", "1,000,000", "2023-11-28", "3.14159",
        "x = 42 + 7 * 3", "0x1F 0b1010 1e-5", "tel: +33 6 12 34 56 78", "abc123def456", "v1.2.3-rc4",
        "Zürich café naïve façade", "Ελληνικά κείμενα", "Привет, мир!", "日本語のテキスト", "中文文本测试",
        "한국어 텍스트", "emoji 😀🎉👍🏽 and ZWJ 👨‍👩‍👧", "e\u0301 combining", "العربية نص", "हिन्दी पाठ",
        "def f(x):\n    return x ** 2\n", "for (int i = 0; i < n; ++i) { sum += a[i]; }", "<div class=\"x\">hi</div>",
        "SELECT * FROM t WHERE id = 17;", "{\"key\": [1, 2, 3]}", "$ ls -la /tmp | grep foo", "¡Hola! ¿Qué tal?",
        "<|im_start|>user\nhi<|im_end|>", "text<|endoftext|>more", "<jupyter_code>print(1)", "----====****",
        "…—–•", "  multiple   spaces  here  ", "CamelCaseIdentifier snake_case_name", "¼ ½ ¾ ² ³ ٣ ४",
        "Ⅻ roman ⅷ", "mixed12ab34", "    indented code", "end.",
    ]
    lines = list(pieces)
    while len(lines) < n_lines:
        k = rng.randint(1, 4)
        lines.append(rng.choice([" ", "", "\n", ", "]).join(rng.choice(pieces) for _ in range(k)))
    return lines


def mode_tokenizer(args):
    from tokenizers import Tokenizer, pre_tokenizers
    from transformers import AutoTokenizer
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "tok"
        run_converter(args, out, "--no-quantize")
        ours = Tokenizer.from_file(str(out / "tokenizer.json"))
        config = json.loads((out / "tokenizer_config.json").read_text())
    hf = AutoTokenizer.from_pretrained(str(args.gguf.parent), gguf_file=args.gguf.name)
    reader = gguf.GGUFReader(str(args.gguf))
    template = reader.fields["tokenizer.chat_template"].contents()
    assert config["chat_template"] == template, "chat_template differs from the GGUF's"

    lines = corpus()
    ours_ids = [ours.encode(t, add_special_tokens=False).ids for t in lines]
    hf_ids = [hf.encode(t, add_special_tokens=False) for t in lines]
    plain_mismatch = [t for t, a, b in zip(lines, ours_ids, hf_ids) if a != b]
    # transformers has no 'smollm' entry, so its GGUF tokenizer lacks the Digits split of SmolLM2's
    # tokenizer.json. With that split added, every line must agree.
    backend = hf.backend_tokenizer
    backend.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)])
    split_ids = [backend.encode(t, add_special_tokens=False).ids for t in lines]
    split_mismatch = [t for t, a, b in zip(lines, ours_ids, split_ids) if a != b]
    roundtrip_fail = [t for t, ids in zip(lines, ours_ids) if ours.decode(ids, skip_special_tokens=False) != t]

    log(f"{len(lines)} lines, {sum(map(len, ours_ids))} tokens")
    log(f"vs transformers GGUF tokenizer as built (no Digits split): {len(plain_mismatch)} mismatching lines")
    for t in plain_mismatch[:5]:
        log("   ", repr(t))
    log(f"vs transformers GGUF tokenizer + SmolLM2's Digits split: {len(split_mismatch)} mismatching lines")
    for t in split_mismatch[:5]:
        log("   ", repr(t))
    log(f"decode(encode(x)) != x: {len(roundtrip_fail)} lines")
    print(json.dumps({"lines": len(lines), "mismatch_plain": len(plain_mismatch),
                      "mismatch_with_digits": len(split_mismatch), "roundtrip_fail": len(roundtrip_fail)}))
    if split_mismatch or roundtrip_fail:
        raise SystemExit("FAIL: tokenizer mismatch")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["goldens", "weights", "tokenizer", "all"])
    p.add_argument("--gguf", type=Path, default=REPO / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf")
    p.add_argument("--converter", type=Path, default=REPO / "build" / "tools" / "gguf_convert" / "awq-gguf-convert")
    p.add_argument("--group-sizes", type=int, nargs="+", default=[64, 32])
    args = p.parse_args()
    if args.mode != "goldens":
        for path in (args.gguf, args.converter):
            if not path.exists():
                sys.exit(f"verify_conversion.py: {path} not found (run scripts/fetch_default_model / build first)")
        args.gguf, args.converter = args.gguf.resolve(), args.converter.resolve()
    if args.mode == "goldens":
        mode_goldens(args)
    if args.mode in ("weights", "all"):
        mode_weights(args)
    if args.mode in ("tokenizer", "all"):
        mode_tokenizer(args)


if __name__ == "__main__":
    main()
