"""The demo shop's orders: a small JSON file standing in for the shop's order system."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

ORDERS = Path(os.environ.get("NORTHWIND_ORDERS", Path(__file__).resolve().parents[1] / "orders.json"))
RETURN_DAYS = 30
_lock = threading.Lock()
_cancelled: set[str] = set()  # cancellations made while the server runs (the file stays as shipped)


def normalise(order_id: Any) -> str | None:
    """``4471``, ``#4471`` or ``NW-4471`` as the order system's key; None for nothing usable."""
    if order_id is None:
        return None
    text = str(order_id).strip().lstrip("#").upper().removeprefix("NW-")
    return text or None


def find(order_id: Any) -> dict[str, Any] | None:
    key = normalise(order_id)
    orders = json.loads(ORDERS.read_text(encoding="utf-8"))
    order = orders.get(key) if key else None
    if order is None:
        return None
    with _lock:
        if key in _cancelled:
            order = {**order, "status": "cancelled"}
    return {"id": key, **order}


def cancel(order_id: str) -> None:
    with _lock:
        _cancelled.add(order_id)


def returnable(order: dict[str, Any]) -> bool:
    """Delivered within the return window (the demo's dates are days ago, so it never goes stale)."""
    days = order.get("delivered_days_ago")
    return order["status"] == "delivered" and days is not None and days <= RETURN_DAYS
