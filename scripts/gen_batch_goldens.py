#!/usr/bin/env python3
"""Prompt token ids as transformers builds them, for tests/batch/test_session.cpp:
apply_chat_template(messages, add_generation_prompt=True, tokenize=True) for chat
prompts, tokenizer(text) (special tokens added) for raw prompts.

Usage: PYTHON=/work/refenv/bin/python; $PYTHON scripts/gen_batch_goldens.py [--shared DIR]
Needs: transformers (5.x) and jinja2. Tokenizers come from <shared>/testdata/tokenizers.
Writes tests/data/batch/prompt_goldens.json.
"""
import argparse
import json
import os
import sys

try:
    from transformers import AutoTokenizer
except ImportError as e:  # pragma: no cover
    sys.exit(f"gen_batch_goldens.py needs transformers 5.x and jinja2 ({e}); "
             "run it with PYTHON=/work/refenv/bin/python")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "batch", "prompt_goldens.json")

# Requests as `awqrun batch` and `awqrun run` see them: a prompt with an
# optional --system, or a whole chat list.
CASES = [
    {"name": "user only", "prompt": "Hello there! How are you today?", "system": ""},
    {"name": "system and user", "prompt": "Name three colors, é and 漢字 included.", "system": "You are terse."},
    {"name": "conversation", "messages": [
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "Quatre."},
        {"role": "user", "content": "And 3+3?"}]},
]
RAW = ["Once upon a time", "  leading spaces\nand a newline"]


def ids_of(result):
    # transformers 5 returns a BatchEncoding from apply_chat_template(tokenize=True).
    if hasattr(result, "keys") and "input_ids" in result:
        return list(result["input_ids"])
    return list(result)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    args = parser.parse_args()
    goldens = []
    for name in ["llama3", "qwen3", "llama2"]:
        path = os.path.join(args.shared, "testdata", "tokenizers", name)
        tok = AutoTokenizer.from_pretrained(path)
        entry = {"tokenizer": name, "chat": [], "raw": []}
        if tok.chat_template:
            for case in CASES:
                messages = case.get("messages")
                if messages is None:
                    messages = ([{"role": "system", "content": case["system"]}] if case["system"] else []) + \
                               [{"role": "user", "content": case["prompt"]}]
                ids = ids_of(tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=True))
                entry["chat"].append({**case, "ids": ids})
        for text in RAW:
            entry["raw"].append({"text": text, "ids": tok(text)["input_ids"]})
        goldens.append(entry)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(goldens, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
