"""Where every benchmark writes its figures: bench/results/<name>.json (not committed)."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def write_results(name: str, figures: dict) -> Path:
    """Write ``figures`` (flat: metric -> number, plus sizes) as ``bench/results/<name>.json``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(figures, indent=1, default=str) + "\n")
    return path
