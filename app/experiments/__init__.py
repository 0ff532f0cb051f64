"""A/B experiments: deterministic assignment, outcome events, and their analysis.

* ``assignment`` — ``assign(experiment_id, user_id, variants)``: a user always gets the
  same variant of an experiment, in proportion to the variants' weights.
* ``models`` — experiments, variants, the ``llm.feedback`` event (``FeedbackEvent``) and
  the analysis results.
* ``agent`` — the Faust agent that stores feedback events in ``outcomes``.
* ``stats`` / ``analysis`` — two-proportion z-test and Welch t-test against the control
  (the first variant), standard library only.
* ``store`` — the SQL over ``experiments`` and ``outcomes``.
"""

from frugalflow.experiments.analysis import analyze
from frugalflow.experiments.assignment import assign
from frugalflow.experiments.models import (
    Experiment,
    ExperimentAnalysis,
    ExperimentIn,
    FeedbackEvent,
    Variant,
)

__all__ = [
    "Experiment",
    "ExperimentAnalysis",
    "ExperimentIn",
    "FeedbackEvent",
    "Variant",
    "analyze",
    "assign",
]
