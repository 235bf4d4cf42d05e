#!/usr/bin/env python3
"""Single-sequence performance peer for ModelBench: transformers' GraniteMoeHybridForCausalLM on the same
checkpoint (or a random model of a config), fp32, eager attention, CPU. Prints load time, RSS, batch-1
prefill tokens/s over a P-token prompt and decode tokens/s over G greedy tokens.

  python3 engine/src/test/python/hf_peer.py --model DIR [-p 512 -g 64] [--threads N]
  python3 engine/src/test/python/hf_peer.py --config config.json [--save DIR [--save-dtype bf16]]
      (random weights; --save writes them as a HF checkpoint for ModelBench and exits)
"""
import argparse
import json
import resource
import time

import torch
from transformers import GraniteMoeHybridConfig, GraniteMoeHybridForCausalLM


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    ap.add_argument("--config")
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-g", type=int, default=64)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--save")
    ap.add_argument("--save-dtype", default="bf16", choices=["bf16", "f32"])
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    rss0 = rss_mb()
    t0 = time.perf_counter()
    if a.model:
        model = GraniteMoeHybridForCausalLM.from_pretrained(a.model, torch_dtype=torch.float32,
                                                            attn_implementation="eager")
    else:
        raw = json.load(open(a.config))
        raw.pop("model_type", None)
        raw.pop("architectures", None)
        cfg = GraniteMoeHybridConfig(**raw)
        cfg._attn_implementation = "eager"
        torch.manual_seed(0)
        model = GraniteMoeHybridForCausalLM(cfg)
        if a.save:
            model.to(torch.bfloat16 if a.save_dtype == "bf16" else torch.float32).save_pretrained(a.save)
            print("saved", a.save)
            return
    model.eval()
    load = time.perf_counter() - t0
    rss1 = rss_mb()
    vocab = model.config.vocab_size
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, min(vocab, 50000), (1, a.p), generator=g)
    with torch.no_grad():
        model(ids[:, :16])  # warm-up
        t = time.perf_counter()
        model(ids)
        prefill = a.p / (time.perf_counter() - t)
        t = time.perf_counter()
        out = model.generate(ids, max_new_tokens=a.g, min_new_tokens=a.g, do_sample=False)
        total = time.perf_counter() - t
    decode = a.g / max(1e-9, total - a.p / prefill)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"load_s": round(load, 2), "rss_before_mb": round(rss0), "rss_after_load_mb": round(rss1),
                      "rss_peak_mb": round(peak), "prefill_tok_s": round(prefill, 1),
                      "decode_tok_s": round(decode, 2), "threads": torch.get_num_threads(),
                      "new_tokens": int(out.shape[1] - a.p)}))


if __name__ == "__main__":
    main()
