#!/usr/bin/env python3
"""Reference outputs for the CPU engine tests (tests/engine/), from HF transformers.

Default mode: builds TINY random Llama / Mistral / Qwen2 models, quantizes their
decoder linears with AWQ round-to-nearest (zero point), writes each as an AWQ
GEMM checkpoint into tests/data/engine/<name>/{config.json, model.safetensors},
then runs the HF model in float64 with the DEQUANTIZED weights and stores the
logits of a few token sequences (every position) and greedy continuations in
tests/data/engine/<name>/golden.json.

--smollm2 DIR: loads the AWQ checkpoint in DIR (models/SmolLM2-135M-Instruct),
dequantizes it to fp32 and records a compact golden for 10 prompts in
tests/data/engine/smollm2_golden.json.

Each tiny golden.json also holds HF's strided perplexity of a random sequence
(the check of awq::perplexity).

Run: $PYTHON scripts/gen_engine_goldens.py [--smollm2 models/SmolLM2-135M-Instruct]
"""
import argparse
import json
import math
import os
import sys

try:
    import numpy as np
    import torch
    import transformers
    from safetensors.torch import load_file, save_file
except ImportError as e:  # pragma: no cover
    sys.exit(f"gen_engine_goldens.py needs torch, transformers, safetensors and numpy ({e}); "
             "set PYTHON to an interpreter that has them")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "engine")
AWQ_ORDER = [0, 2, 4, 6, 1, 3, 5, 7]  # nibble j of a packed word holds column 8c + AWQ_ORDER[j]

BASE = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, vocab_size=300, max_position_embeddings=128, rms_norm_eps=1e-5,
            bos_token_id=1, eos_token_id=2)

# name -> (architecture, config overrides, group_size, modules_to_not_convert)
MODELS = {
    "llama_gqa2": ("llama", {}, 64, []),
    "llama3_rope_tied": ("llama", dict(tie_word_embeddings=True, rope_scaling=dict(
        rope_type="llama3", factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
        original_max_position_embeddings=64)), 32, []),
    "mistral_swa": ("mistral", dict(sliding_window=8), 32, []),
    "qwen2_bias": ("qwen2", dict(rope_theta=1000000.0, rms_norm_eps=1e-6), 64, []),
    "llama_mha_linear_rope": ("llama", dict(num_key_value_heads=4, rope_scaling=dict(
        rope_type="linear", factor=2.0)), 32, []),
    "llama_gqa4": ("llama", dict(num_attention_heads=8, num_key_value_heads=2), 64, []),
    "llama_g128": ("llama", dict(hidden_size=128, intermediate_size=256), 128, []),
    "llama_not_convert": ("llama", {}, 32, ["mlp.down_proj"]),
}

ARCH = {
    "llama": (transformers.LlamaConfig, transformers.LlamaForCausalLM, "LlamaForCausalLM"),
    "mistral": (transformers.MistralConfig, transformers.MistralForCausalLM, "MistralForCausalLM"),
    "qwen2": (transformers.Qwen2Config, transformers.Qwen2ForCausalLM, "Qwen2ForCausalLM"),
}
LINEARS = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]
SEQ_LENGTHS = [1, 5, 17, 40]


def quantize_rtn(w, group_size):
    """AWQ zero-point RTN of w [out, in] -> q [out, in], zeros [out, groups], fp16 scales [out, groups]."""
    out_f, in_f = w.shape
    g = w.reshape(out_f, in_f // group_size, group_size).double()
    wmax, wmin = g.amax(dim=2), g.amin(dim=2)
    scales = ((wmax - wmin).clamp(min=1e-5) / 15).half()
    s = scales.double()
    zeros = (-torch.round(wmin / s)).clamp(0, 15)
    q = (torch.round(g / s.unsqueeze(2)) + zeros.unsqueeze(2)).clamp(0, 15)
    return q.reshape(out_f, in_f).to(torch.int32), zeros.to(torch.int32), scales


def dequantize(q, zeros, scales, group_size):
    out_f, in_f = q.shape
    qg = q.reshape(out_f, in_f // group_size, group_size).double()
    w = (qg - zeros.double().unsqueeze(2)) * scales.double().unsqueeze(2)
    return w.reshape(out_f, in_f)


def pack_gemm_columns(m):
    """[rows, cols] values 0..15 -> int32 [rows, cols / 8] in AWQ GEMM order (awq-format.md §2.1)."""
    rows, cols = m.shape
    m = m.to(torch.int64).reshape(rows, cols // 8, 8)
    word = torch.zeros(rows, cols // 8, dtype=torch.int64)
    for j, col in enumerate(AWQ_ORDER):
        word |= m[:, :, col] << (4 * j)
    word = torch.where(word >= 2**31, word - 2**32, word)
    return word.to(torch.int32)


def make_config(arch, overrides):
    kw = dict(BASE)
    kw.update(overrides)
    return kw


def write_config(dirname, arch, kw, group_size, not_convert):
    cfg = dict(kw)
    cfg.update(architectures=[ARCH[arch][2]], model_type=arch, torch_dtype="float16", hidden_act="silu",
               tie_word_embeddings=kw.get("tie_word_embeddings", False), rope_theta=kw.get("rope_theta", 10000.0))
    cfg["quantization_config"] = dict(quant_method="awq", bits=4, group_size=group_size, zero_point=True,
                                      version="gemm", modules_to_not_convert=not_convert or None)
    with open(os.path.join(dirname, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)


def randomize(model, gen):
    """Weights with enough spread that logits are far from uniform (greedy has margins)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(0.5 + torch.rand(p.shape, generator=gen))
            elif name.endswith(".bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=gen))
            else:
                fan_in = p.shape[-1]
                p.copy_(torch.randn(p.shape, generator=gen) * (1.5 / math.sqrt(fan_in)))


def build_tiny(name, arch, overrides, group_size, not_convert, seed):
    kw = make_config(arch, overrides)
    config_cls, model_cls, _ = ARCH[arch]
    config = config_cls(**kw)
    config._attn_implementation = "eager"
    gen = torch.Generator().manual_seed(seed)
    model = model_cls(config).float()
    randomize(model, gen)
    tensors = {}
    with torch.no_grad():
        # Every float tensor is stored as fp16: the reference uses the rounded values.
        for pname, p in model.named_parameters():
            p.copy_(p.half().float())
        for li, layer in enumerate(model.model.layers):
            for lin_name in LINEARS:
                mod = layer.get_submodule(lin_name)
                prefix = f"model.layers.{li}.{lin_name}"
                if mod.bias is not None:
                    tensors[prefix + ".bias"] = mod.bias.detach().half().contiguous()
                if any(s in lin_name for s in not_convert):
                    tensors[prefix + ".weight"] = mod.weight.detach().half().contiguous()
                    continue
                q, zeros, scales = quantize_rtn(mod.weight.detach(), group_size)
                mod.weight.copy_(dequantize(q, zeros, scales, group_size).float())
                tensors[prefix + ".qweight"] = pack_gemm_columns(q.t().contiguous())
                tensors[prefix + ".qzeros"] = pack_gemm_columns(zeros.t().contiguous())
                tensors[prefix + ".scales"] = scales.t().contiguous()
            tensors[f"model.layers.{li}.input_layernorm.weight"] = layer.input_layernorm.weight.detach().half()
            tensors[f"model.layers.{li}.post_attention_layernorm.weight"] = \
                layer.post_attention_layernorm.weight.detach().half()
        tensors["model.embed_tokens.weight"] = model.model.embed_tokens.weight.detach().half()
        tensors["model.norm.weight"] = model.model.norm.weight.detach().half()
        if not kw.get("tie_word_embeddings", False):
            tensors["lm_head.weight"] = model.lm_head.weight.detach().half()
    dirname = os.path.join(OUT, name)
    os.makedirs(dirname, exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(dirname, "model.safetensors"),
              metadata={"format": "pt"})
    write_config(dirname, arch, kw, group_size, not_convert)
    return model.double().eval(), config


@torch.no_grad()
def greedy(model, prompt, n):
    ids = list(prompt)
    for _ in range(n):
        logits = model(torch.tensor([ids])).logits[0, -1]
        ids.append(int(torch.argmax(logits)))
    return ids[len(prompt):]


@torch.no_grad()
def strided_perplexity(model, ids, ctx, stride):
    """HF's strided perplexity (docs "Perplexity of fixed-length models"): windows of ctx tokens
    advancing by stride; only the tokens not scored by the previous window count."""
    nll_sum, count, prev_end = 0.0, 0, 0
    for begin in range(0, len(ids), stride):
        end = min(begin + ctx, len(ids))
        target_len = end - prev_end
        window = torch.tensor([ids[begin:end]])
        logits = model(window).logits[0].double()
        logp = torch.log_softmax(logits, dim=-1)
        first = window.shape[1] - target_len
        for pos in range(max(first, 1), window.shape[1]):
            nll_sum -= float(logp[pos - 1, ids[begin + pos]])
            count += 1
        prev_end = end
        if end == len(ids):
            break
    return math.exp(nll_sum / count), count


TOKENIZER_TEXT = ("The quick brown fox jumps over the lazy dog. Hello world! "
                  "Stop here, then go on: once upon a time there was a tiny model that talked.") * 4


def write_tiny_tokenizer(dirname, vocab_size):
    """A byte-level BPE tokenizer with vocab_size ids (<unk>=0, <s>=1, </s>=2) for the generator tests."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<unk>", "<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator([TOKENIZER_TEXT], trainer)
    assert tok.get_vocab_size() == vocab_size, tok.get_vocab_size()
    tok.save(os.path.join(dirname, "tokenizer.json"))
    with open(os.path.join(dirname, "tokenizer_config.json"), "w") as f:
        json.dump(dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>"), f)
    return tok


def gen_tiny():
    for seed, (name, (arch, overrides, group_size, not_convert)) in enumerate(MODELS.items()):
        model, config = build_tiny(name, arch, overrides, group_size, not_convert, 1000 + seed)
        gen = torch.Generator().manual_seed(seed)
        vocab = config.vocab_size
        sequences = []
        for n in SEQ_LENGTHS:
            ids = torch.randint(3, vocab, (n,), generator=gen).tolist()
            with torch.no_grad():
                logits = model(torch.tensor([ids])).logits[0]
            sequences.append(dict(ids=ids, logits=[[float(f"{v:.7g}") for v in row] for row in logits.tolist()]))
        if arch == "mistral":
            # The window must matter for this test to mean anything.
            ids = sequences[-1]["ids"]
            model.config.sliding_window = None
            no_window = model(torch.tensor([ids])).logits[0]
            model.config.sliding_window = overrides["sliding_window"]
            assert not torch.allclose(no_window, torch.tensor(sequences[-1]["logits"], dtype=torch.float64),
                                      rtol=1e-4), "sliding window had no effect"
        prompt = torch.randint(3, vocab, (6,), generator=gen).tolist()
        golden = dict(model=name, sequences=sequences, greedy=dict(prompt=prompt, tokens=greedy(model, prompt, 16)))
        if name == "llama_gqa2":
            tok = write_tiny_tokenizer(os.path.join(OUT, name), vocab)
            golden["greedy"]["text"] = tok.decode(golden["greedy"]["tokens"], skip_special_tokens=True)
        ppl_ids = torch.randint(3, vocab, (50,), generator=gen).tolist()
        ppl, count = strided_perplexity(model, ppl_ids, ctx=16, stride=8)
        golden["perplexity"] = dict(ids=ppl_ids, ctx=16, stride=8, ppl=ppl, tokens=count)
        with open(os.path.join(OUT, name, "golden.json"), "w") as f:
            json.dump(golden, f, separators=(",", ":"))
        size = sum(os.path.getsize(os.path.join(OUT, name, x)) for x in os.listdir(os.path.join(OUT, name)))
        print(f"{name}: {size / 1024:.0f} KiB, greedy {golden['greedy']['tokens'][:6]}..., ppl {ppl:.3f}")


def unpack_gemm_columns(words):
    """int32 [rows, cols / 8] in AWQ GEMM order -> int64 [rows, cols]."""
    w = words.to(torch.int64) & 0xFFFFFFFF
    rows, n = w.shape
    out = torch.zeros(rows, n, 8, dtype=torch.int64)
    for j, col in enumerate(AWQ_ORDER):
        out[:, :, col] = (w >> (4 * j)) & 0xF
    return out.reshape(rows, n * 8)


def load_awq_dequantized(model_dir):
    """An HF model (fp32) whose linears hold the dequantized AWQ weights of model_dir."""
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    group_size = cfg["quantization_config"]["group_size"]
    cfg.pop("quantization_config")
    config = transformers.AutoConfig.for_model(**cfg)
    config._attn_implementation = "eager"
    model = transformers.AutoModelForCausalLM.from_config(config).float()
    state = {}
    for fname in sorted(os.listdir(model_dir)):
        if fname.endswith(".safetensors"):
            state.update(load_file(os.path.join(model_dir, fname)))
    dense = {}
    for key, t in state.items():
        if key.endswith(".qweight"):
            prefix = key[: -len(".qweight")]
            q = unpack_gemm_columns(t)  # [in, out]
            z = unpack_gemm_columns(state[prefix + ".qzeros"])  # [groups, out]
            s = state[prefix + ".scales"].double()  # [groups, out]
            g = torch.arange(q.shape[0]) // (group_size if group_size > 0 else q.shape[0])
            dense[prefix + ".weight"] = ((q - z[g]).double() * s[g]).t().float()
        elif not key.endswith((".qzeros", ".scales")):
            dense[key] = t.float()
    missing, unexpected = model.load_state_dict(dense, strict=False)
    missing = [k for k in missing if k != "lm_head.weight" or not config.tie_word_embeddings]
    assert not missing and not unexpected, (missing, unexpected)
    if config.tie_word_embeddings:
        model.tie_weights()
    return model.eval()


SMOLLM2_PROMPTS = [
    "Hello",
    "The capital of France is",
    "Write a haiku about the sea.",
    "def fibonacci(n):\n    ",
    "Il était une fois, dans un petit village au bord de la mer, une jeune fille qui",
    "Der schnelle braune Fuchs springt über den faulen Hund, und dann",
    "1, 2, 3, 5, 8, 13,",
    "Explain in two sentences why the sky is blue. Use simple words that a child understands.",
    "日本の首都は",
    "<|im_start|>user\nWhat is 7 times 6?<|im_end|>\n<|im_start|>assistant\n",
]


def gen_smollm2(model_dir, out_path, n_probe=64, n_top=20, n_new=64):
    tok = transformers.AutoTokenizer.from_pretrained(model_dir)
    model = load_awq_dequantized(model_dir)
    gen = torch.Generator().manual_seed(7)
    vocab = model.config.vocab_size
    probe = sorted(torch.randperm(vocab, generator=gen)[:n_probe].tolist())
    records = []
    for text in SMOLLM2_PROMPTS:
        ids = tok(text, add_special_tokens=False)["input_ids"]
        logits = model(torch.tensor([ids])).logits[0]
        last = logits[-1]
        top = torch.topk(last, n_top)
        out = model.generate(torch.tensor([ids]), max_new_tokens=n_new, do_sample=False, eos_token_id=None,
                             pad_token_id=0)[0, len(ids):].tolist()
        records.append(dict(text=text, ids=ids,
                            probe_logits=[[float(f"{v:.6g}") for v in row] for row in logits[:, probe].tolist()],
                            top_ids=top.indices.tolist(), top_logits=[float(f"{v:.6g}") for v in top.values.tolist()],
                            greedy=out))
        print(f"{len(ids):3d} tokens: {tok.decode(out)[:60]!r}")
    with open(out_path, "w") as f:
        json.dump(dict(model=os.path.basename(os.path.normpath(model_dir)), probe_ids=probe, prompts=records), f,
                  separators=(",", ":"))
    print(f"wrote {out_path} ({os.path.getsize(out_path) / 1024:.0f} KiB)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smollm2", metavar="DIR", help="record the SmolLM2 golden from this AWQ checkpoint")
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    if args.smollm2:
        gen_smollm2(args.smollm2, os.path.join(OUT, "smollm2_golden.json"))
    else:
        gen_tiny()


if __name__ == "__main__":
    main()
