"""From loss to benchmark accuracy: two-step task laws (Bhagia et al. 2024), Gadre et al.'s downstream
error law, and observational scaling (Ruan et al. 2024).

>>> import scaling as sc
>>> runs = sc.load_dataset("olmo_ladder")                                       # doctest: +SKIP
>>> ladder = runs.filter(runs["role"] == "ladder", reason="fit on the ladder")  # doctest: +SKIP
>>> law = sc.task_law(ladder, "bpb_hellaswag_val", "acc_hellaswag_val", bootstrap=200, rng=0)  # doctest: +SKIP
>>> law.predict(6.9e9, 3.9e12).to_frame()                                      # doctest: +SKIP
"""

from .chain import AccuracyPrediction, SingleStepFit, TaskLaw, predict_accuracy, single_step, task_law
from .curves import curve_points, final_points, moving_average, variance_analysis
from .sigmoid import SigmoidFit, fit_sigmoid, sigmoid

__all__ = ["AccuracyPrediction", "SigmoidFit", "SingleStepFit", "TaskLaw", "curve_points", "final_points",
           "fit_sigmoid", "moving_average", "predict_accuracy", "sigmoid", "single_step", "task_law",
           "variance_analysis"]
