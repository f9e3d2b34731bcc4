"""Question modules, one per chapter: ``ch01.py`` ... ``ch10.py`` (see ``..registry``)."""
