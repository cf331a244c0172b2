"""Generate ``data/demo_runs.csv``: a small, clearly synthetic isoFLOP sweep for ``scaling demo``.

Design: 8 compute budgets from 1e18 to 3e21 FLOPs (log-spaced), 9 model sizes per budget spread
from 1/4x to 4x the budget's compute-optimal size (log-spaced), D = C / (6 N). Losses come from
Epoch AI's refit of the Chinchilla law (Besiroglu et al. 2024, arXiv 2404.10102: E = 1.8172,
A = 482.01, B = 2085.43, alpha = 0.3478, beta = 0.3658) times log-normal noise with a standard
deviation of 1 % (about the seed-to-seed spread of real runs), seed 2024.

Run ``python scripts/make_demo_data.py`` to regenerate; the output is deterministic.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

E, A, B, ALPHA, BETA = 1.8172, 482.01, 2085.43, 0.3478, 0.3658
NOISE = 0.01
SEED = 2024


def main() -> Path:
    rng = np.random.default_rng(SEED)
    G = (ALPHA * A / (BETA * B)) ** (1 / (ALPHA + BETA))
    a = BETA / (ALPHA + BETA)
    rows = []
    for k, C in enumerate(np.geomspace(1e18, 3e21, 8)):
        n_opt = G * (C / 6) ** a
        for j, N in enumerate(n_opt * np.geomspace(0.25, 4.0, 9)):
            N = float(f"{N:.3g}")
            D = C / (6 * N)
            L = (E + A / N**ALPHA + B / D**BETA) * np.exp(rng.normal(0, NOISE))
            rows.append({"run": f"C{k}-N{j}", "budget": f"{C:.2g}", "n_params": N, "n_tokens": round(D),
                         "flops": C, "loss": round(float(L), 5)})
    out = Path(__file__).resolve().parents[1] / "data" / "demo_runs.csv"
    pd.DataFrame(rows).to_csv(out, index=False)
    return out


if __name__ == "__main__":
    print(main())
