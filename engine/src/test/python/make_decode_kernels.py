"""Writes the TorchScript module that runs a Mamba-2 mixer's decode step in one native call.

Quarry's model is DJL NDArray ops, but DJL exposes no fused multiply-add, so the recurrent update
s = s * exp(dt*A) + (x*dt) (x) B took four full passes over the fp32 SSM state plus a scratch copy of the
outer product, and the read-out a fifth: at 32 decode rows that is 25 MB per h-350m layer per pass and
~40 % of a decode step (docs/benchmarks.md). The module does the same arithmetic with torch's in-place
mul_ and addcmul_ (two passes, no scratch), and the conv window, softplus and gated RMSNorm around it:
~35 DJL calls per layer and step become one (a batch-1 step is mostly such calls).
It has no parameters and runs on whatever device its inputs are on. Run once; the output is committed:

    python3 engine/src/test/python/make_decode_kernels.py \
        engine/src/main/resources/dev/quarry/engine/internal/model/mamba_decode.pt

Saved by torch 2.x TorchScript; DJL's libtorch 2.7.1 loads it (MambaDecodeKernelTest checks the numbers
against the same step written as DJL NDArray ops).
"""
import sys

import torch


class MambaMixerDecode(torch.nn.Module):
    def forward(self, proj: torch.Tensor, conv: torch.Tensor, conv_w: torch.Tensor, conv_b: torch.Tensor,
                dt_bias: torch.Tensor, a: torch.Tensor, d: torch.Tensor, s: torch.Tensor,
                eps: float, dt_min: float, dt_max: float, groups: int) -> torch.Tensor:
        # proj [B, 1, 2*d_inner + 2*groups*ds + nh] fp32: in_proj's output (z | xBC | dt), input norm folded in
        # conv [B, K, conv_dim] fp32: the row's last K conv inputs, oldest first; shifted in place
        # conv_w [K, conv_dim]; conv_b [conv_dim]; dt_bias, a = -exp(A_log), d: [nh] fp32
        # s [B, nh, hd, ds] fp32, contiguous: updated in place (view() fails loudly rather than copying)
        # heads h use group h // (nh // groups); returns the gated, normalized [B, 1, d_inner] for out_proj
        n = s.size(0)
        nh = s.size(1)
        hd = s.size(2)
        ds = s.size(3)
        d_inner = nh * hd
        conv_dim = conv.size(2)
        hpg = nh // groups
        p = proj.reshape(n, -1)
        z = p[:, :d_inner]
        conv.copy_(torch.cat([conv[:, 1:], p[:, d_inner:d_inner + conv_dim].unsqueeze(1)], 1))
        xc = torch.nn.functional.silu((conv * conv_w).sum(1) + conv_b)  # [B, conv_dim]
        x = xc[:, :d_inner].reshape(n, nh, hd)
        b = xc[:, d_inner:d_inner + groups * ds]
        c = xc[:, d_inner + groups * ds:]
        dt = torch.nn.functional.softplus(p[:, d_inner + conv_dim:] + dt_bias)  # [B, nh]
        if dt_min > 0.0 or dt_max != float("inf"):
            dt = torch.clamp(dt, dt_min, dt_max)
        # s = s * exp(dt*A) + (x*dt) (x) B: two passes over the state
        da = torch.exp(dt * a).view(n, groups, hpg, 1, 1)
        xdt = (x * dt.unsqueeze(2)).view(n, groups, hpg, hd, 1)
        s.view(n, groups, hpg, hd, ds).mul_(da).addcmul_(xdt, b.reshape(n, groups, 1, 1, ds))
        # y = C . s per head: one batched product C [1, ds] . s^T [ds, hpg*hd] per row and group; + D x
        y = torch.matmul(c.reshape(n, groups, 1, ds), s.view(n, groups, hpg * hd, ds).transpose(2, 3))
        y = y.view(n, nh, hd) + x * d.view(1, nh, 1)
        # gated RMSNorm in fp32, gate before the norm (its weight is folded into out_proj)
        g = y.view(n, d_inner) * torch.nn.functional.silu(z)
        g = g / torch.sqrt(g.square().mean(-1, keepdim=True) + eps)
        return g.view(n, 1, d_inner)


if __name__ == "__main__":
    torch.jit.script(MambaMixerDecode()).save(sys.argv[1])
