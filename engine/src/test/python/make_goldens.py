#!/usr/bin/env python3
"""Golden outputs of Hugging Face transformers' GraniteMoeHybridForCausalLM for Quarry's GoldenTest.

Weights are a closed-form function of (tensor name, element index) that GoldenTest recomputes in Java
(FormulaWeights), so no weight files are stored. For each config this writes
engine/src/test/resources/goldens/<name>.json with the config, prompts, the last-position logits of each
prompt run alone (fp32, eager attention), and 8 greedy tokens (eos ignored).

Usage: python3 engine/src/test/python/make_goldens.py   (torch + transformers >= 5 on the path)
       python3 engine/src/test/python/make_goldens.py --java-cp "engine/target/classes:$(cat cp.txt)"
           (goldens on checkpoints written by CheckpointMaker = quarry make-checkpoint; fails if transformers
            reports missing or unexpected weights)
"""
import json
import math
import os
import sys

import numpy as np
import torch
from transformers import GraniteMoeHybridConfig, GraniteMoeHybridForCausalLM

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "goldens")
PROMPTS = [[5, 7, 9], [11, 3, 8, 22, 40, 17, 19, 23, 29, 31, 37], list(range(20, 61, 2))]  # 3, 11, 21 tokens (chunk 8)
NEW_TOKENS = 8

BASE = dict(vocab_size=61, hidden_size=32, intermediate_size=16, shared_intermediate_size=24, num_hidden_layers=4,
            num_attention_heads=4, num_key_value_heads=2, mamba_n_heads=4, mamba_n_groups=1, mamba_d_state=8,
            mamba_d_head=16, mamba_expand=2, mamba_chunk_size=8, mamba_d_conv=4, rms_norm_eps=1e-5,
            embedding_multiplier=2.0, residual_multiplier=0.5, attention_multiplier=0.125, logits_scaling=2.0,
            tie_word_embeddings=True, position_embedding_type="nope", rope_theta=100.0, num_local_experts=0,
            num_experts_per_tok=0, pad_token_id=0, bos_token_id=1, eos_token_id=2,
            layer_types=["mamba", "attention", "mamba", "attention"])
CONFIGS = {
    "hybrid-ng2": dict(mamba_n_groups=2),
    "moe": dict(num_local_experts=4, num_experts_per_tok=2, layer_types=["mamba", "mamba", "attention", "mamba"]),
    "dense-rope": dict(position_embedding_type="rope", layer_types=["attention"] * 4),
    "hybrid-rope-untied": dict(position_embedding_type="rope", tie_word_embeddings=False, mamba_n_groups=4),
    # weights rounded to bf16 and the whole model run in bf16 by transformers (Quarry computes in fp32)
    "hybrid-ng2-bf16": dict(mamba_n_groups=2),
}

# in-memory names of transformers 5.x -> on-disk (HF checkpoint) names used by Quarry
RENAMES = [("block_sparse_moe.router.weight", "block_sparse_moe.router.layer.weight"),
           ("block_sparse_moe.experts.gate_up_proj", "block_sparse_moe.input_linear.weight"),
           ("block_sparse_moe.experts.down_proj", "block_sparse_moe.output_linear.weight")]


def name_hash(name):
    return sum(ord(c) for c in name) % 997


def formula(name, shape):
    """The values GoldenTest's FormulaWeights computes (float64 math, cast to float32)."""
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.float64)
    h = name_hash(name)
    wave = np.sin(0.7 * i + 0.1 * h) * np.cos(1.3 * i + 0.01 * h)
    if name.endswith("A_log"):
        v = np.log(1.0 + 4.0 * (1.0 + wave))
    elif name.endswith("norm.weight") or name.endswith(".D"):
        v = 1.0 + 0.2 * wave
    elif name.endswith("dt_bias"):
        v = 0.5 * wave
    else:
        v = (1.5 / math.sqrt(shape[-1])) * wave
    return v.astype(np.float32).reshape(shape)


def main():
    os.makedirs(OUT, exist_ok=True)
    for cname, over in CONFIGS.items():
        kw = dict(BASE)
        kw.update(over)
        cfg = GraniteMoeHybridConfig(**kw)
        cfg._attn_implementation = "eager"
        bf16 = cname.endswith("-bf16")
        model = GraniteMoeHybridForCausalLM(cfg).eval()
        with torch.no_grad():
            for n, p in model.named_parameters():
                disk = n
                for a, b in RENAMES:
                    disk = disk.replace(a, b)
                p.copy_(torch.from_numpy(formula(disk, tuple(p.shape))))
            if cfg.tie_word_embeddings:
                assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
        if bf16:
            model = model.to(torch.bfloat16)
        rows = []
        for prompt in PROMPTS:
            ids = torch.tensor([prompt])
            with torch.no_grad():
                logits = model(ids).logits[0, -1].float()
                gen = model.generate(ids, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS, do_sample=False,
                                     pad_token_id=0)
            rows.append({"prompt": prompt, "logits_last": [float(x) for x in logits.tolist()],
                         "argmax": int(logits.argmax()), "greedy": gen[0, len(prompt):].tolist()})
        kwj = dict(kw)
        kwj["model_type"] = "granitemoehybrid"
        doc = {"name": cname, "config": kwj, "dtype": "bf16" if bf16 else "f32", "transformers": __import__("transformers").__version__,
               "torch": torch.__version__, "prompts": rows}
        with open(os.path.join(OUT, cname + ".json"), "w") as f:
            json.dump(doc, f, indent=None, separators=(",", ":"))
        print(cname, [r["greedy"] for r in rows])


if __name__ == "__main__" and len(sys.argv) == 1:
    sys.exit(main())


# ---- goldens on checkpoints written by Quarry's own CheckpointMaker (quarry make-checkpoint) ----------
MAKER_PRESETS = [("tiny-hybrid", "f32"), ("tiny-moe", "f32"), ("tiny-dense", "f32"), ("tiny-rope", "f32"),
                 ("tiny-hybrid", "bf16")]
MAKER_PROMPTS = [[104, 101, 108, 108, 111], list(range(40, 60)), [257, 264, 117, 115, 101, 114, 265] + list(range(60, 90))]


def maker_goldens(java_cp):
    """Runs CheckpointMaker via `java -cp java_cp` (engine/target/classes + dependencies) for each preset."""
    import subprocess
    import tempfile
    import warnings
    for preset, dtype in MAKER_PRESETS:
        with tempfile.TemporaryDirectory() as d:
            subprocess.run(["java", "-Dai.djl.offline=true", "-cp", java_cp, "dev.quarry.engine.checkpoint.MakerMain",
                            preset, "7", d, dtype, "2"], check=True)
            model, info = GraniteMoeHybridForCausalLM.from_pretrained(
                d, dtype=torch.bfloat16 if dtype == "bf16" else torch.float32, attn_implementation="eager",
                output_loading_info=True)
            if info["missing_keys"] or info["unexpected_keys"] or info.get("mismatched_keys"):
                raise SystemExit(f"{preset}: transformers did not load every weight: {info}")
            model.eval()
            rows = []
            for prompt in MAKER_PROMPTS:
                ids = torch.tensor([prompt])
                with torch.no_grad():
                    logits = model(ids).logits[0, -1].float()
                    gen = model.generate(ids, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS, do_sample=False,
                                         pad_token_id=model.config.pad_token_id)
                rows.append({"prompt": prompt, "logits_last": [float(x) for x in logits.tolist()],
                             "argmax": int(logits.argmax()), "greedy": gen[0, len(prompt):].tolist()})
            name = f"maker-{preset}-{dtype}"
            doc = {"name": name, "preset": preset, "seed": 7, "shards": 2, "dtype": dtype,
                   "transformers": __import__("transformers").__version__, "prompts": rows}
            with open(os.path.join(OUT, name + ".json"), "w") as f:
                json.dump(doc, f, separators=(",", ":"))
            print(name, [r["greedy"] for r in rows])


if __name__ == "__main__" and len(sys.argv) > 2 and sys.argv[1] == "--java-cp":
    maker_goldens(sys.argv[2])
