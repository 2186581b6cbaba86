"""Teacher attribution: which family's answers does a model's writing resemble, against foils?

crossfit.py   the classifier, cross-fitted over prompt folds
stats.py      per-prompt leaning, bootstrap interval, sign-flip p-value, Holm, the decision
analysis.py   answers -> AttributionResult fields
runner.py     `rse attribute`: answers through the ledger, files in the run directory
"""
