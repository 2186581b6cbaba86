"""Teacher attribution: which family's answers does a model's writing resemble, against foils?

crossfit.py   the classifier, cross-fitted over prompt folds
stats.py      per-prompt leaning, bootstrap interval, sign-flip p-value, Holm, the decision
analysis.py   answers -> AttributionResult fields
runner.py     `rse attribute`: answers through the ledger, files in the run directory
"""

# The results package first: its `study` kind imports types.py, so types.py must not be what starts
# loading it (`from distillscope.rse.attribution.types import AttributionResult` as a program's first
# import failed with a circular ImportError).
import distillscope.results  # noqa: F401
