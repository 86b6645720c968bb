#!/usr/bin/env python3
"""Generates the tokenizer test corpus and golden ids/decodes from the reference
Python packages (`tokenizers`, `transformers`).

Outputs (all committed, plain text):
  tests/data/tokenizer/corpus.jsonl          one JSON string per line (lines may hold \n, \r\n)
  tests/data/tokenizer/goldens/<name>.jsonl  header + one record per corpus line + random-id decodes
  tests/data/tokenizer/goldens/components.jsonl  single normalizers / pre-tokenizers / decoders on samples
  tests/data/tokenizer/smollm2/              tokenizer.json etc. (only with --smollm2-gguf)

Usage:
  PYTHON=/work/refenv/bin/python
  $PYTHON scripts/gen_tokenizer_goldens.py [--shared DIR] [--smollm2-gguf FILE.gguf]

Golden record fields (per corpus line, same order as corpus.jsonl):
  ids   transformers AutoTokenizer(dir).encode(line, add_special_tokens=False)
  raw   tokenizers.Tokenizer.from_file(tokenizer.json) ids, only where they differ from `ids`
  d     decode(prefix + ids + suffix, skip_special_tokens=False), only where != line
  ds    decode(prefix + ids + suffix, skip_special_tokens=True), only where != line
The header holds `prefix`/`suffix`: the ids that encode(..., add_special_tokens=True) adds; the
script checks on every line that encode(line) == prefix + ids + suffix.
Records with `rand` hold random id sequences and their decodes `d`/`ds` (always present).
"""
import argparse
import json
import os
import random
import shutil
import sys
import tempfile

try:
    import tokenizers
    import transformers
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer
except ImportError as e:  # keep the message actionable
    sys.exit(f"missing module ({e}); install with: pip install 'transformers>=5' tokenizers")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "data", "tokenizer")
SEED = 20240611
N_RANDOM_DECODES = 300

WORDS = """the of and to in is was for that with as on by at from his her they we you it this be are
were have has had not but or which an all their there been one would will more when who what about
time people year could into than them other some new first only after also over before through most
because while where those such many under between during without against government system school
quickly slowly bright quiet river mountain network memory kernel matrix vector tensor model token
weights inference latency throughput cache merge encoder decoder language engine compile runtime""".split()
CONTRACTIONS = ["don't", "DON'T", "I'm", "it's", "IT'S", "We'LL", "they've", "THEY'VE", "she'd",
                "you're", "YOU'RE", "can't", "won't", "ſ'S", "o'clock", "rock'n'roll"]
CODE = [
    "def main(argv):\n    return 0\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i] * b[i];\n}\n",
    "if x != None and y >= 3:\n        print(f\"{x!r} -> {y:08.3f}\")",
    "#include <vector>\nstd::vector<int> v{1, 2, 3};",
    "SELECT id, name FROM users WHERE age > 21 ORDER BY name DESC;",
    "const f = async (a, b) => { await g(a ?? b); };",
    "    \t  x = [i**2 for i in range(10)]  # squares\r\n",
    "fn main() -> Result<(), Box<dyn Error>> { Ok(()) }",
    "<div class=\"a\">&nbsp;&lt;tag&gt;</div>",
    "$ ls -la | grep '^d' && echo \"done\" > /dev/null 2>&1",
]
SCRIPTS = [
    "今天天气很好，我们去公园散步吧。", "東京都は日本の首都です。", "한국어 문장도 포함합니다.",
    "مرحبا بالعالم، كيف حالك؟", "नमस्ते दुनिया, आप कैसे हैं?", "Привет, мир! Как дела?",
    "Γειά σου Κόσμε", "สวัสดีชาวโลก", "שלום עולם", "Tiếng Việt có dấu: Đặng Thị Ánh",
    "ÀÉÎÕÜ àéîõü ßẞ æøå ÆØÅ", "Ελληνικά και Ελλάδα ΣΑΣ",
]
EMOJI = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇺🇸", "1️⃣", "🧑🏿‍💻", "❤️", "🤖", "🫠", "👩🏻‍🦰", "✔︎"]
SPECIAL_SPACES = ["\u00a0", "\u3000", "\u0085", "\u2028", "\u2029", "\u200b", "\ufeff", "\u00ad",
                  "\u2009", "\u202f", "\u180e", "\u000b", "\u000c", "\u1680"]
COMBINING = ["e\u0301", "a\u0308", "n\u0303", "\u1100\u1161\u11a8", "o\u0302\u0323", "A\u030a",
             "\u0915\u094d\u0937", "Å", "ﬁ", "①", "Ⅻ", "ｶﾀｶﾅ", "㍿", "x\u20dd"]
SPECIAL_CONTEXT = [
    "<|im_start|>user\nHello there!<|im_end|>\n<|im_start|>assistant\n",
    "<s>[INST] What is 2+2? [/INST] 4</s>",
    "<s> [INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST]",
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
    "text<|endoftext|>more text", "a</s>b", "<s>", "</s></s>", "<unk>", "<|im_start|><|im_end|>",
    "<|im_start", "<s", "< s>", "<|eot_id|", "<think>\nhmm\n</think>\n\n", "<tool_call>{}</tool_call>",
    "<|fim_prefix|>def f():<|fim_suffix|><|fim_middle|>", " <s> ", "x<|im_end|> y",
]
NUMBERS = ["2023", "1,000,000", "3.14159", "-42", "0.000001", "1e-9", "12345678901234567890",
           "+1 (555) 010-9999", "v1.2.3", "٣٤٥", "१२३", "۱۲۳", "½", "²³", "1st 2nd 3rd"]


def random_rare_char(rng):
    ranges = [(0x1, 0x1F), (0x7F, 0x9F), (0x100, 0x24F), (0x370, 0x3FF), (0x1D400, 0x1D7FF),
              (0x20000, 0x2A6DF), (0xE000, 0xF8FF), (0xF0000, 0xF00FF), (0x10FF00, 0x10FFFF),
              (0x1F300, 0x1FAFF), (0xFFF0, 0xFFFD), (0x2FFF0, 0x2FFFF), (0x1F000, 0x1F02F)]
    lo, hi = rng.choice(ranges)
    return chr(rng.randint(lo, hi))


def random_whitespace(rng):
    return "".join(rng.choice([" ", " ", "  ", "\t", "\n", "\r\n", "\n\n", "   ", "\r", " \n "])
                   for _ in range(rng.randint(1, 4)))


def prose(rng):
    words = []
    for i in range(rng.randint(3, 25)):
        w = rng.choice(WORDS if rng.random() > 0.15 else CONTRACTIONS)
        if i == 0 or rng.random() < 0.05:
            w = w.capitalize()
        if rng.random() < 0.03:
            w = w.upper()
        words.append(w)
        if rng.random() < 0.08:
            words[-1] += rng.choice([",", ";", ":", " -", "..."])
    return " ".join(words) + rng.choice([".", "!", "?", "", "\n"])


def mixed(rng):
    pools = [WORDS, CONTRACTIONS, CODE, SCRIPTS, EMOJI, SPECIAL_SPACES, COMBINING, SPECIAL_CONTEXT,
             NUMBERS]
    parts = []
    for _ in range(rng.randint(2, 8)):
        r = rng.random()
        if r < 0.15:
            parts.append(random_whitespace(rng))
        elif r < 0.25:
            parts.append("".join(random_rare_char(rng) for _ in range(rng.randint(1, 3))))
        else:
            parts.append(rng.choice(rng.choice(pools)))
        if rng.random() < 0.5:
            parts.append(" ")
    return "".join(parts)


def build_corpus():
    rng = random.Random(SEED)
    lines = ["", " ", "  ", "\n", "\r\n", "\t", "a", " a", "  a", "a ", "Hello world", " Hello world",
             "Hello  world", "Hello   world  ", "a   b", "DON'T STOP", "I'M here, YOU'RE there",
             "The year 2023 had 1,000,000 visitors and pi is 3.14159.", " 2023", "12345",
             "ſ'S and 's and 'S", "naïve café résumé", "e\u0301", "\u00e9", "한국어", "x\u00a0y",
             "x\u3000y", "line1\nline2\r\nline3\rline4", "\n\n\n", "   \n   \n", "tabs\t\t\tend\t",
             "▁leading metaspace ▁", "Ġ Ċ", "<0x41>", "\u2581", "\u0000 nul", "\ufffd", "\U0010ffff",
             "\U0001f600\U0001f600\U0001f600"]
    lines += CODE + SCRIPTS + EMOJI + SPECIAL_SPACES + COMBINING + SPECIAL_CONTEXT + NUMBERS
    lines += CONTRACTIONS
    while len(lines) < 2100:
        r = rng.random()
        if r < 0.35:
            lines.append(prose(rng))
        elif r < 0.45:
            lines.append(rng.choice(CODE) + random_whitespace(rng) + rng.choice(CODE))
        elif r < 0.55:
            lines.append(" ".join(rng.choice(NUMBERS) for _ in range(rng.randint(1, 5))))
        elif r < 0.65:
            lines.append(rng.choice(SPECIAL_CONTEXT) + prose(rng) + rng.choice(SPECIAL_CONTEXT))
        else:
            lines.append(mixed(rng))
    lines.append(" ".join(prose(rng) for _ in range(60)))  # one long line
    return lines


def find_shared():
    env = os.environ.get("AWQRUN_SHARED_DIR")
    return env if env else os.path.join(ROOT, "..", "shared")


def write_smollm2(gguf_path):
    """Rebuilds the SmolLM2 tokenizer files from a GGUF (transformers' GGUF tokenizer converter)."""
    out = os.path.join(DATA, "smollm2")
    with tempfile.TemporaryDirectory() as tmp:
        tok = AutoTokenizer.from_pretrained(os.path.dirname(gguf_path), gguf_file=os.path.basename(gguf_path))
        tok.save_pretrained(tmp)
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(tmp, "tokenizer.json"), encoding="utf-8") as f:
            tj = json.load(f)
        with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:  # compact: < 2 MB
            json.dump(tj, f, ensure_ascii=False, separators=(",", ":"))
        for name in ("tokenizer_config.json", "chat_template.jinja"):
            if os.path.exists(os.path.join(tmp, name)):
                shutil.copy(os.path.join(tmp, name), os.path.join(out, name))


def special_affixes(tok):
    probe = tok.encode("x", add_special_tokens=False)
    full = tok.encode("x", add_special_tokens=True)
    for i in range(len(full) - len(probe) + 1):
        if full[i:i + len(probe)] == probe:
            return full[:i], full[i + len(probe):]
    sys.exit("cannot locate the text ids inside encode(add_special_tokens=True)")


def goldens_for(name, tok_dir, corpus):
    hf = AutoTokenizer.from_pretrained(tok_dir)
    raw = Tokenizer.from_file(os.path.join(tok_dir, "tokenizer.json"))
    prefix, suffix = special_affixes(hf)
    header = {"tokenizer": name, "class": type(hf).__name__, "prefix": prefix, "suffix": suffix,
              "transformers": transformers.__version__, "tokenizers": tokenizers.__version__}
    records = [header]
    for line in corpus:
        ids = hf.encode(line, add_special_tokens=False)
        full = hf.encode(line, add_special_tokens=True)
        if full != prefix + ids + suffix:
            sys.exit(f"{name}: add_special_tokens is not a fixed prefix/suffix on {line!r}")
        rec = {"ids": ids}
        raw_ids = raw.encode(line, add_special_tokens=False).ids
        if raw_ids != ids:
            rec["raw"] = raw_ids
        d = hf.decode(full, skip_special_tokens=False)
        ds = hf.decode(full, skip_special_tokens=True)
        if d != line:
            rec["d"] = d
        if ds != line:
            rec["ds"] = ds
        records.append(rec)
    rng = random.Random(SEED + len(name))
    n = len(hf)
    special_ids = sorted(set(hf.all_special_ids) | set(hf.added_tokens_decoder.keys()))
    for _ in range(N_RANDOM_DECODES):
        ids = [rng.choice(special_ids) if special_ids and rng.random() < 0.1 else rng.randrange(n)
               for _ in range(rng.randint(1, 12))]
        records.append({"rand": ids, "d": hf.decode(ids, skip_special_tokens=False),
                        "ds": hf.decode(ids, skip_special_tokens=True)})
    return records


def component_json(kind, component):
    """The tokenizer.json form of one normalizer / pre-tokenizer / decoder."""
    from tokenizers.models import BPE
    t = Tokenizer(BPE())
    setattr(t, kind, component)
    return json.loads(t.to_str())[kind]


def component_goldens(corpus):
    """Each component alone, applied by the reference to a sample of corpus lines."""
    from tokenizers import Regex, decoders, normalizers, pre_tokenizers
    rng = random.Random(SEED + 1)
    lines = [l for l in corpus if l][:120] + rng.sample(corpus, 200)
    llama3 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
              r"|\s*[\r\n]+|\s+(?!\S)|\s+")
    pre = [pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
           pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True),
           pre_tokenizers.Split(Regex(llama3), behavior="isolated"),
           pre_tokenizers.Split(Regex(r"\s+"), behavior="removed"),
           pre_tokenizers.Split(Regex(r"\p{P}"), behavior="merged_with_previous"),
           pre_tokenizers.Split(Regex(r"[aeiou]"), behavior="merged_with_next"),
           pre_tokenizers.Split(Regex(r"\d"), behavior="contiguous"),
           pre_tokenizers.Split(Regex(r"\s"), behavior="isolated", invert=True),
           pre_tokenizers.Split(" ", behavior="merged_with_previous"),
           pre_tokenizers.Metaspace(prepend_scheme="always", split=True),
           pre_tokenizers.Metaspace(prepend_scheme="first", split=True),
           pre_tokenizers.Metaspace(prepend_scheme="never", split=False),
           pre_tokenizers.Digits(individual_digits=True),
           pre_tokenizers.Digits(individual_digits=False),
           pre_tokenizers.Punctuation(),
           pre_tokenizers.WhitespaceSplit(),
           pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                    pre_tokenizers.ByteLevel(add_prefix_space=False)])]
    norm = [normalizers.NFC(), normalizers.NFD(), normalizers.NFKC(), normalizers.NFKD(), normalizers.Lowercase(),
            normalizers.Strip(), normalizers.Strip(left=False, right=True), normalizers.Prepend("\u2581"),
            normalizers.Replace(Regex(r"\s+"), " "), normalizers.Replace("a", "AA"), normalizers.StripAccents(),
            normalizers.Sequence([normalizers.NFD(), normalizers.StripAccents(), normalizers.Lowercase()])]
    dec = [decoders.Metaspace(prepend_scheme="always"), decoders.Metaspace(prepend_scheme="never"),
           decoders.Strip(" ", 2, 0), decoders.Strip("a", 0, 1), decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(),
           decoders.ByteLevel(),
           decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(),
                              decoders.Strip(" ", 1, 0)])]
    records = []
    for p in pre:
        cases = [[l, [piece for piece, _ in p.pre_tokenize_str(l)]] for l in lines]
        records.append({"kind": "pre_tokenizer", "config": component_json("pre_tokenizer", p), "cases": cases})
    for n in norm:
        cases = [[l, n.normalize_str(l)] for l in lines]
        records.append({"kind": "normalizer", "config": component_json("normalizer", n), "cases": cases})
    alphabet = ["\u2581", " ", "a", "\u2581b", "<0xE2>", "<0x82>", "<0xAC>", "<0x41>", "<0x0a>", "\u2581\u2581",
                "\u0120", "\u00e2", "\u0124", "\u00ac", "x\u2581", "<0xF0>", "<0x9F>", "\u00f0\u0141"]
    for d in dec:
        cases = []
        for _ in range(150):
            toks = [rng.choice(alphabet) for _ in range(rng.randint(1, 6))]
            cases.append([toks, d.decode(toks)])
        records.append({"kind": "decoder", "config": component_json("decoder", d), "cases": cases})
    return records


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=find_shared(), help="folder with testdata/tokenizers/")
    ap.add_argument("--smollm2-gguf", help="SmolLM2-135M-Instruct GGUF to rebuild tests/data/tokenizer/smollm2")
    args = ap.parse_args()
    transformers.logging.set_verbosity_error()
    if args.smollm2_gguf:
        write_smollm2(args.smollm2_gguf)

    corpus = build_corpus()
    os.makedirs(os.path.join(DATA, "goldens"), exist_ok=True)
    with open(os.path.join(DATA, "corpus.jsonl"), "w", encoding="utf-8") as f:
        for line in corpus:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")

    with open(os.path.join(DATA, "goldens", "components.jsonl"), "w", encoding="utf-8") as f:
        for r in component_goldens(corpus):
            f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")

    dirs = {n: os.path.join(args.shared, "testdata", "tokenizers", n) for n in ("llama2", "llama3", "qwen3")}
    dirs["smollm2"] = os.path.join(DATA, "smollm2")
    for name, d in dirs.items():
        if not os.path.exists(os.path.join(d, "tokenizer.json")):
            sys.exit(f"{d}/tokenizer.json not found")
        records = goldens_for(name, d, corpus)
        path = os.path.join(DATA, "goldens", f"{name}.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
        print(f"{path}: {len(records)} records, {os.path.getsize(path)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
