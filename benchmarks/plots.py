"""One figure for a benchmark's plot: matplotlib without a display, laid out, saved and closed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def figure(path: Path, size: tuple[float, float], dpi: int = 110, panels: int = 1) -> Iterator[Any]:
    """Yield the axes (a tuple of them when ``panels`` > 1); the figure is written to ``path`` on exit."""
    import matplotlib

    matplotlib.use("Agg")  # benchmarks run headless
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, panels, figsize=size)
    try:
        yield axes
        fig.tight_layout()
        fig.savefig(path, dpi=dpi)
    finally:
        plt.close(fig)
