#!/usr/bin/env python3
"""The `quarry bench` workloads through Hugging Face transformers (performance peer, not a test).

Same shapes as BenchRunner: generation (N prompts x P random tokens -> G new tokens, no early stop),
classification (short records behind a ~300-token instruction, 4 labels, *generating* the label),
extraction (free generation of a short JSON answer, unconstrained). Static left-padded batches via
generate(), batch-1 sequential and batch-N.

  python3 engine/src/test/python/hf_bench.py --model /tmp/h350m [-n 32 -p 64 -g 32] [--dtype f32|bf16] [--json]
"""
import argparse
import json
import random
import resource
import time

import torch
from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast

LABELS = ["billing", "technical", "account", "other"]
WORDS = ("the customer reports that the invoice was charged twice after the update and asks for a refund "
         "while the login page keeps failing on mobile devices since yesterday").split()
SYSTEM = "You are a helpful assistant. Please ensure responses are professional, accurate, and safe."


def chat(user):
    return (f"<|start_of_role|>system<|end_of_role|>{SYSTEM}<|end_of_text|>\n"
            f"<|start_of_role|>user<|end_of_role|>{user}<|end_of_text|>\n"
            f"<|start_of_role|>assistant<|end_of_role|>")


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("-n", "--prompts", type=int, default=32)
    ap.add_argument("-p", "--prompt-tokens", type=int, default=64)
    ap.add_argument("-g", "--new-tokens", type=int, default=32)
    ap.add_argument("--instruction-tokens", type=int, default=300)
    ap.add_argument("--record-tokens", type=int, default=24)
    ap.add_argument("--dtype", default="f32", choices=["f32", "bf16"])
    ap.add_argument("--no-sequential", action="store_true")
    ap.add_argument("--workloads", default="generation,classification,extraction")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--labels", default=",".join(LABELS), help="classification labels, comma-separated")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    labels = a.labels.split(",")
    if a.threads:
        torch.set_num_threads(a.threads)
    dtype = torch.float32 if a.dtype == "f32" else torch.bfloat16
    t0 = time.perf_counter()
    tok = PreTrainedTokenizerFast(tokenizer_file=f"{a.model}/tokenizer.json")
    tok.pad_token = "<|pad|>"
    tok.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(a.model, torch_dtype=dtype).eval()
    load = time.perf_counter() - t0
    eos = tok.convert_tokens_to_ids("<|end_of_text|>")
    pad = tok.convert_tokens_to_ids("<|pad|>")
    rows = []
    rnd = random.Random(0)
    modes = [True, False] if not a.no_sequential else [False]
    work = a.workloads.split(",")

    def gen(batch_ids, attn, new, min_new=0):
        with torch.inference_mode():
            return model.generate(input_ids=batch_ids, attention_mask=attn, max_new_tokens=new,
                                  min_new_tokens=min_new, do_sample=False, pad_token_id=pad, eos_token_id=eos)

    if "generation" in work:
        vocab = len(tok)
        prompts = [[rnd.randrange(vocab) for _ in range(a.prompt_tokens)] for _ in range(a.prompts)]
        prompts = [[t if t != eos else 0 for t in p] for p in prompts]
        gen(torch.tensor(prompts[:1]), torch.ones(1, a.prompt_tokens, dtype=torch.long), 2, 2)
        for seq in modes:
            def run(new):
                if seq:
                    for p in prompts:
                        gen(torch.tensor([p]), torch.ones(1, len(p), dtype=torch.long), new, new)
                else:
                    ids = torch.tensor(prompts)
                    gen(ids, torch.ones_like(ids), new, new)
            tp, _ = timed(lambda: run(1))
            tf, _ = timed(lambda: run(a.new_tokens))
            n, g = a.prompts, a.new_tokens
            rows.append(dict(workload="generation", mode="hf batch-1" if seq else f"hf static batch {n}", requests=n,
                             prompt_tokens=n * a.prompt_tokens, generated_tokens=n * g, seconds=tf,
                             prompt_tok_per_s=n * a.prompt_tokens / tp, generated_tok_per_s=n * g / tf,
                             decode_tok_per_s=n * (g - 1) / (tf - tp) if tf > tp else None, requests_per_s=n / tf))

    def records():
        out = []
        for _ in range(a.prompts):
            s = ""
            while len(tok.encode(s)) < a.record_tokens:
                s += rnd.choice(WORDS) + " "
            out.append(s.strip())
        return out

    def run_prompts(texts, new, seq, name, mode):
        def go():
            if seq:
                for t in texts:
                    b = tok([t], return_tensors="pt", padding=True)
                    gen(b.input_ids, b.attention_mask, new)
            else:
                b = tok(texts, return_tensors="pt", padding=True)
                gen(b.input_ids, b.attention_mask, new)
        dt, _ = timed(go)
        ptoks = sum(len(tok.encode(t)) for t in texts)
        rows.append(dict(workload=name, mode=mode, requests=len(texts), prompt_tokens=ptoks, generated_tokens=None,
                         seconds=dt, prompt_tok_per_s=ptoks / dt, requests_per_s=len(texts) / dt))

    if "classification" in work:
        instr = "Route the support message to one team. "
        while len(tok.encode(instr)) < a.instruction_tokens:
            instr += rnd.choice(WORDS) + " "
        head = (instr.strip() + "\n\nLabels:\n" + "".join(f"- {l}\n" for l in labels) + "\nText:\n")
        texts = [chat(head + r) for r in records()]
        new = max(len(tok.encode(l)) for l in labels) + 1
        for seq in modes:
            run_prompts(texts, new, seq, "classification", "hf generate-label " + ("batch-1" if seq else "batched"))

    if "extraction" in work:
        schema = '{"type":"object","properties":{"team":{"enum":["billing","technical","account"]},"amount":{"type":["number","null"]},"urgent":{"type":"boolean"},"summary":{"type":"string","maxLength":24}},"required":["team","urgent"]}'
        texts = [chat("Extract the requested fields from the text. Reply with one JSON object that matches this JSON Schema:\n"
                      + schema + "\n\nText:\n" + r) for r in records()]
        for seq in modes:
            run_prompts(texts, 48, seq, "extraction", "hf unconstrained 48 tok " + ("batch-1" if seq else "batched"))

    facts = dict(model=a.model, dtype=a.dtype, load_seconds=round(load, 2), torch=torch.__version__,
                 threads=torch.get_num_threads(),
                 peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
    if a.json:
        print(json.dumps(dict(facts=facts, rows=rows), indent=2))
    else:
        for k, v in facts.items():
            print(f"{k}: {v}")
        print(f"{'workload':15} {'mode':28} {'reqs':>5} {'sec':>8} {'prompt/s':>10} {'gen/s':>10} {'decode/s':>10} {'req/s':>8}")
        for r in rows:
            f = lambda k: f"{r[k]:.1f}" if r.get(k) is not None else "-"
            print(f"{r['workload']:15} {r['mode']:28} {r['requests']:5d} {r['seconds']:8.2f} {f('prompt_tok_per_s'):>10} "
                  f"{f('generated_tok_per_s'):>10} {f('decode_tok_per_s'):>10} {f('requests_per_s'):>8}")


if __name__ == "__main__":
    main()
