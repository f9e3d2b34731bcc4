"""dlbook_utils: the helper package of dlbook.

Correct, small, from-scratch NumPy implementations that the book teaches, each checked against
finite differences and TensorFlow, plus data, plots, explorers and grading.

One concept per module; import what you need, e.g. ``from dlbook_utils.layers import Dense``.
Importing this package never imports TensorFlow (only :mod:`dlbook_utils.tfcompare` does, lazily).
"""

__version__ = "0.1.0"
