"""Chapter 10 (trends and FAQ): its questions are all multiple choice, kept as data in
``ch10_choices.yml`` (diagnosing training curves, remedies, data splits, history)."""
