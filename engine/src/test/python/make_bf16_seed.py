"""Writes the TorchScript module that gives Quarry its first bfloat16 tensor on DJL 0.35.

DJL 0.35's PyTorch JNI maps DJL data types to torch scalar types with a switch that knows only
float32..complex64 (DataType ordinals 0-8); for BFLOAT16 (ordinal 11) it runs a bare `throw;`, which
calls std::terminate and kills the JVM ("terminate called without an active exception"). Every call
that passes a target dtype aborts that way: NDManager.zeros/ones/create(buffer, BFLOAT16),
NDArray.toType(BFLOAT16). Operations on an existing bf16 tensor pass no dtype and work, so
Quarry loads this module (one bf16 parameter of shape [1]) and derives every bf16 array from it
(see dev.quarry.engine.internal.model.Bf16). Run once; the output is committed:

    python3 engine/src/test/python/make_bf16_seed.py \
        engine/src/main/resources/dev/quarry/engine/internal/model/bf16seed.pt
"""
import sys

import torch


class Bf16Seed(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.seed = torch.nn.Parameter(torch.zeros(1, dtype=torch.bfloat16), requires_grad=False)

    def forward(self, x):
        return x.to(torch.bfloat16)


if __name__ == "__main__":
    torch.jit.script(Bf16Seed()).save(sys.argv[1])
