"""Writes the TorchScript module that runs the Mamba-2 decode recurrence in one native call.

Quarry's model is DJL NDArray ops, but DJL exposes no fused multiply-add, so the recurrent update
s = s * exp(dt*A) + (x*dt) (x) B took four full passes over the fp32 SSM state plus a scratch copy of the
outer product, and the read-out a fifth: at 32 decode rows that is 25 MB per h-350m layer per pass and
~40 % of a decode step (docs/benchmarks.md). The module does the same arithmetic with torch's in-place
mul_ and addcmul_ (two passes, no scratch) and folds the ~20 small DJL calls around it into one.
It has no parameters and runs on whatever device its inputs are on. Run once; the output is committed:

    python3 engine/src/test/python/make_decode_kernels.py \
        engine/src/main/resources/dev/quarry/engine/internal/model/mamba_decode.pt

Saved by torch 2.x TorchScript; DJL's libtorch 2.7.1 loads it (MambaDecodeKernelTest checks the numbers
against the same step written as DJL NDArray ops).
"""
import sys

import torch


class MambaDecodeStep(torch.nn.Module):
    def forward(self, s: torch.Tensor, dt: torch.Tensor, a: torch.Tensor, x: torch.Tensor,
                b: torch.Tensor, c: torch.Tensor, d: torch.Tensor, groups: int) -> torch.Tensor:
        # s [B, nh, hd, ds] fp32, contiguous, updated in place (view fails loudly rather than copying)
        # dt [B, nh] fp32 after softplus and clamp; a = -exp(A_log) [nh]; x [B, nh, hd] fp32
        # b, c [B, groups*ds] fp32; d [nh] fp32; heads h use group h // (nh // groups)
        n = s.size(0)
        nh = s.size(1)
        hd = s.size(2)
        ds = s.size(3)
        hpg = nh // groups
        da = torch.exp(dt * a).view(n, groups, hpg, 1, 1)
        xdt = (x * dt.unsqueeze(2)).view(n, groups, hpg, hd, 1)
        sg = s.view(n, groups, hpg, hd, ds)
        sg.mul_(da).addcmul_(xdt, b.view(n, groups, 1, 1, ds))
        # y = C . s per head: one batched product C [1, ds] . s^T [ds, hpg*hd] per row and group
        y = torch.matmul(c.view(n, groups, 1, ds), s.view(n, groups, hpg * hd, ds).transpose(2, 3))
        return (y.view(n, nh, hd) + x * d.view(1, nh, 1)).view(n, 1, nh * hd)


if __name__ == "__main__":
    torch.jit.script(MambaDecodeStep()).save(sys.argv[1])
