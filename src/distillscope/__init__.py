"""distillscope: measure how far a language model was distilled from another."""

__version__ = "0.1.0"
