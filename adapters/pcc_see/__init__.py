"""PCC SEE channel: one XML message per recipient party's national central unit."""

from adapters.pcc_see.adapter import PccSeeAdapter

__all__ = ["PccSeeAdapter"]
