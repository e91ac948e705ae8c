"""The capacity forecast: the declared load run through the Calico IPAM model.

The static capacity rules (``rules/capacity.py``, CIP502-CIP506) count blocks
and addresses. This package answers what counting cannot: what Calico would
actually do with the stack's node groups and expected pods
(``calico.ipam.Simulator``).

``model`` (the forecast as data), ``load`` (the declared load), ``more`` (how
many more pods or nodes), ``block_size`` (CIP507's advice), ``build``
(``forecast``), ``clearance`` (the proof that lets ``check`` skip the
simulator) and ``findings`` (CIP507-CIP509).
"""
from __future__ import annotations

from .block_size import recommend_block_size
from .build import forecast
from .findings import forecast_findings
from .model import Forecast, GroupForecast, NamespaceForecast, PoolForecast

__all__ = ["Forecast", "GroupForecast", "NamespaceForecast", "PoolForecast", "forecast",
           "forecast_findings", "recommend_block_size"]
