"""Coordinates of 4-digit postcode areas (PC4 centroids), from data/geo/."""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

PC4_FILE = Path(__file__).resolve().parents[2] / "data" / "geo" / "nl_pc4_centroids.csv"


@lru_cache(maxsize=4)
def pc4_centroids(path: str | None = None) -> dict[str, tuple[float, float]]:
    with open(path or PC4_FILE, encoding="utf-8") as f:
        return {row["pc4"]: (float(row["latitude"]), float(row["longitude"])) for row in csv.DictReader(f)}


def coordinates_for_postcode(postcode: str) -> tuple[float, float] | None:
    return pc4_centroids().get(postcode.replace(" ", "")[:4])
