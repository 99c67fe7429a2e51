"""One process or many: torchrun detection, process groups, and BatchNorm synchronised across processes.

torchrun sets RANK / WORLD_SIZE / LOCAL_RANK (and MASTER_ADDR / MASTER_PORT); with them present we join a
process group: gloo on CPU, nccl on CUDA. Without them everything runs as rank 0 of 1.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.nn.functional import all_reduce as differentiable_all_reduce

from ..runtime import resolve_device


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def in_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def setup(device_name: str) -> tuple[Dist, torch.device]:
    """Join the torchrun process group if there is one; return (ranks, this process's device)."""
    if not in_torchrun() or int(os.environ["WORLD_SIZE"]) == 1:
        return Dist(), resolve_device(device_name)
    info = Dist(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", 0)))
    device = resolve_device(device_name)
    if device.type == "cuda":
        device = torch.device("cuda", info.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return info, device


def teardown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


QUIESCE_SECONDS = 0.5


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def quiesce() -> None:
    """Every process waits here before the group is torn down. Waiting releases the GIL, so gloo's worker
    threads can finish freeing the last collectives' tensors (which needs the GIL); destroying the group while
    one of them still waits for it deadlocks (seen on a 2-core machine: rank 1 hung in destroy_process_group).
    The barrier alone did not always do: a worker thread still freeing the barrier's own work when the main
    thread dropped the DDP Reducer (whose process group joins its threads while holding the GIL) hung rank 0 once
    on a loaded 2-core machine. So every process then sleeps QUIESCE_SECONDS, the GIL free, before going on."""
    barrier()
    if dist.is_initialized():
        time.sleep(QUIESCE_SECONDS)


def all_agree(flag: bool, device: torch.device, any_: bool = True) -> bool:
    """Combine a per-process flag across processes: any of them (default) or all of them."""
    if not dist.is_initialized():
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX if any_ else dist.ReduceOp.MIN)
    return bool(t.item())


class GlobalBatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNorm whose training statistics span every process's batch, on any device (gloo included).

    torch.nn.SyncBatchNorm only runs on GPUs; this computes the same thing with a differentiable all-reduce
    of per-channel sums, so 2 processes x batch b normalise exactly like 1 process x batch 2b.
    """

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input, got {input.dim()}D")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        dims = [0] + list(range(2, x.dim()))
        count = torch.tensor([x.numel() / x.shape[1]], device=x.device, dtype=x.dtype)
        stats = torch.cat([x.sum(dims), (x * x).sum(dims), count])
        stats = differentiable_all_reduce(stats)
        c = x.shape[1]
        n = stats[-1]
        mean = stats[:c] / n
        var = (stats[c:2 * c] / n - mean * mean).clamp_min(0)
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                m = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                self.running_mean.mul_(1 - m).add_(mean.detach(), alpha=m)
                self.running_var.mul_(1 - m).add_(var.detach() * n / (n - 1), alpha=m)
        shape = [1, c] + [1] * (x.dim() - 2)
        y = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y


def convert_sync_batchnorm(module: nn.Module, device: torch.device) -> nn.Module:
    """Use torch's SyncBatchNorm on CUDA and GlobalBatchNorm elsewhere."""
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)
    return _convert(module)


def _convert(module: nn.Module) -> nn.Module:
    if isinstance(module, nn.modules.batchnorm._BatchNorm) and not isinstance(module, GlobalBatchNorm):
        new = GlobalBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                              module.track_running_stats)
        new.load_state_dict(module.state_dict())
        return new.to(next(module.buffers()).device)
    for name, child in module.named_children():
        setattr(module, name, _convert(child))
    return module
