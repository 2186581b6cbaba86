"""Signals: what the default judge reads in an answer before it scores it.

- `reader.py` (`RuleReader`): the rules' reading of identity claims: voices (a named model played as a
  role, or a persona speaking as itself), vendor and maker mentions and whether they are claimed,
  denials, invented makers, wrong places, another vendor's policy; it gives a category, evidence and
  the rules' own yes/no.
- `patterns.py`: the patterns the reader matches (every one about how identity is stated).
- `text.py`: the text made safe to read (invisible characters removed).
- `features.py`: the reading and the text as numbers for the scorer: the signal vector, and hashed
  n-grams of the text with the target's own names and other vendors' names replaced by placeholders.
"""
