"""Write ``data/demo_runs.csv``: the small, clearly synthetic isoFLOP sweep used by ``scaling demo``.

The design and the generating law are in :func:`scaling.demo.generate_demo_runs` (8 budgets from 1e18
to 3e21 FLOPs, 9 sizes each around the compute-optimal one, losses from Epoch AI's refit of the
Chinchilla law — Besiroglu et al. 2024, arXiv 2404.10102 — with 1 % log-normal noise, seed 2024).
Deterministic: ``python scripts/make_demo_data.py`` reproduces the committed file byte for byte.
"""

from __future__ import annotations

from pathlib import Path

from scaling.demo import generate_demo_runs


def main() -> Path:
    out = Path(__file__).resolve().parents[1] / "data" / "demo_runs.csv"
    generate_demo_runs().to_csv(out, index=False)
    return out


if __name__ == "__main__":
    print(main())
