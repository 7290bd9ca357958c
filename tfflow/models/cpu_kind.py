"""Which CPU family the process runs on, for defaults that were measured per family."""

from __future__ import annotations

import functools

__all__ = ["cpu_vendor", "xla_pays_for_vector_models_on_cpu"]

CPUINFO = "/proc/cpuinfo"


@functools.cache
def cpu_vendor(cpuinfo: str = CPUINFO) -> str:
    """The `vendor_id` of the first CPU in `cpuinfo` (`"GenuineIntel"`, `"AuthenticAMD"`),
    or `""` where it cannot be read (other systems)."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "vendor_id":
                    return value.strip()
    except OSError:
        return ""
    return ""


def xla_pays_for_vector_models_on_cpu() -> bool:
    """Whether XLA trains vector models (MLP conditioners) faster on this CPU.

    Yes on Intel Xeon, no on AMD EPYC (the runs: benchmarks/RESULTS.md, "Figures moved out of
    source comments"); other and unknown CPUs take the Intel answer.
    """
    return cpu_vendor() != "AuthenticAMD"
