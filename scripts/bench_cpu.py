#!/usr/bin/env python3
"""CPU speed of awqrun next to llama.cpp on the same model.

awqrun side: the awq-cpu-bench executable (src/engine/cpu_bench_main.cpp) on the
AWQ checkpoint. llama.cpp side: the same model as GGUF through the PyPI package
llama-cpp-python (a benchmark-only dependency: pip builds it from source).
Both run the same number of prompt tokens (one prefill call) and decode steps
(one token per call, greedy), best of --reps, with 1 and 2 threads. awqrun runs
twice per thread count: with the checkpoint's fp16 lm_head (the default, exact)
and with `--lm-head int8` (the non-reference fast mode); --rounds repeats all
three measurements in turn and keeps each one's best, so that a noisy machine
hurts none of them more than the others.

On a CPU that reports AMX inside a VM that does not enable it, pip's default
(-march=native) build of llama.cpp dies with SIGILL on `tilezero`; build it
without AMX (the numbers in docs/PERF.md were measured so):
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
    -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON -DGGML_AVX_VNNI=ON"
    pip install llama-cpp-python

  $PYTHON scripts/bench_cpu.py [--model models/SmolLM2-135M-Instruct] [--gguf FILE]
                               [--bench build/src/engine/awq-cpu-bench] [--rounds N] [--append docs/PERF.md]
"""
import argparse
import glob
import json
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def bench_awqrun(binary, model, threads, prompt, gen, reps, lm_head):
    out = subprocess.run([binary, model, "--threads", str(threads), "--prompt", str(prompt), "--gen", str(gen),
                          "--reps", str(reps), "--lm-head", lm_head], check=True, capture_output=True,
                         text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    return r["prefill_tok_s"], r["decode_tok_s"], r["runner"]


def bench_llama_cpp(gguf, threads, prompt, gen, reps):
    try:
        from llama_cpp import Llama
    except ImportError:
        return None
    llm = Llama(model_path=gguf, n_threads=threads, n_threads_batch=threads, n_ctx=prompt + gen + 8,
                n_batch=max(prompt, 32), verbose=False)
    vocab = llm.n_vocab()
    ids = [(12345 * (i + 1) * 1664525 + 1013904223) % (1 << 32) >> 8 for i in range(prompt)]
    ids = [i % vocab for i in ids]
    best_p, best_d = 1e30, 1e30
    for _ in range(reps):
        llm.reset()
        t = time.perf_counter()
        llm.eval(ids)
        best_p = min(best_p, time.perf_counter() - t)
        t = time.perf_counter()
        for i in range(gen):
            # Fixed ids: llama-cpp-python keeps only the last batch's logits, and
            # which token is fed does not change the cost of a decode step.
            llm.eval([ids[i % prompt]])
        best_d = min(best_d, time.perf_counter() - t)
    return prompt / best_p, gen / best_d


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "SmolLM2-135M-Instruct"))
    ap.add_argument("--gguf", help="GGUF of the same model (default: the first *.gguf in or beside --model)")
    ap.add_argument("--bench", default=None, help="awq-cpu-bench executable")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--prompt", type=int, default=128)
    ap.add_argument("--gen", type=int, default=64)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=1, help="repeat the three measurements in turn, keep each best")
    ap.add_argument("--append", metavar="PERF_MD", help="append the table to this Markdown file")
    args = ap.parse_args()

    # The newest build's binary (build/, build-cpu/, ...), unless --bench names one.
    built = [p for p in glob.glob(os.path.join(ROOT, "build*", "src", "engine", "awq-cpu-bench"))
             if os.access(p, os.X_OK)]
    binary = args.bench or max(built, key=os.path.getmtime, default=None)
    if not binary:
        sys.exit("awq-cpu-bench not found: build it (ninja -C build src/engine/awq-cpu-bench) or pass --bench")
    gguf = args.gguf or next(iter(sorted(glob.glob(os.path.join(args.model, "*.gguf")) +
                                         glob.glob(os.path.normpath(args.model) + "*.gguf"))), None)
    rows = []
    for th in args.threads:
        best = {}  # name -> (prefill, decode), each the best over the rounds
        runner = ""
        for _ in range(args.rounds):
            for lm_head in ("float16", "int8"):
                p, d, runner_text = bench_awqrun(binary, args.model, th, args.prompt, args.gen, args.reps, lm_head)
                keep_best(best, lm_head, (p, d))
                if lm_head == "float16":
                    runner = runner_text
            ref = bench_llama_cpp(gguf, th, args.prompt, args.gen, args.reps) if gguf else None
            if ref:
                keep_best(best, "llama.cpp", ref)
        rows.append((th, best, runner))
        print(f"threads {th}: {best} ({runner})", file=sys.stderr)
    if not gguf:
        print("no GGUF found: llama.cpp column skipped (pass --gguf)", file=sys.stderr)
    elif rows and "llama.cpp" not in rows[0][1]:
        print("llama_cpp not importable: pip install llama-cpp-python (builds from source)", file=sys.stderr)

    head = (f"Model `{os.path.basename(os.path.normpath(args.model))}`, {args.prompt} prompt tokens, {args.gen} "
            f"decode steps, best of {args.reps} x {args.rounds} round(s); CPU: {cpu_name()} ({os.cpu_count()} "
            f"cores); commit {git_commit()}; {time.strftime('%Y-%m-%d', time.gmtime())}; llama.cpp GGUF: "
            f"`{os.path.basename(gguf) if gguf else 'none'}`; awqrun: {rows[0][2] if rows else '?'}.\n\n")
    table = ["| threads | awqrun prefill tok/s | llama.cpp prefill tok/s | awqrun decode tok/s, fp16 lm_head | "
             "awqrun decode tok/s, int8 lm_head | llama.cpp decode tok/s | fp16 / llama.cpp | int8 / llama.cpp |",
             "|---|---|---|---|---|---|---|---|"]
    for th, best, _ in rows:
        fmt = lambda v: f"{v:.1f}" if v else "n/a"  # noqa: E731
        ratio = lambda a, b: f"{a / b:.2f}x" if a and b else "n/a"  # noqa: E731
        p16, d16 = best["float16"]
        d8 = best["int8"][1]
        rp, rd = best.get("llama.cpp", (None, None))
        table.append(f"| {th} | {p16:.1f} | {fmt(rp)} | {d16:.1f} | {d8:.1f} | {fmt(rd)} | {ratio(d16, rd)} | "
                     f"{ratio(d8, rd)} |")
    text = head + "\n".join(table) + "\n"
    print(text)
    if args.append:
        with open(args.append, "a") as f:
            f.write("\n" + text)


def keep_best(best, name, result):
    old = best.get(name)
    best[name] = result if old is None else (max(old[0], result[0]), max(old[1], result[1]))


def git_commit():
    try:
        sha = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], check=True, capture_output=True,
                             text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"], check=True,
                               capture_output=True, text=True).stdout.strip()
        return sha + (" + uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    main()
