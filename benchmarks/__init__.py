"""Benchmarks, each a script run as ``python benchmarks/NAME.py``: a package only so that the type checker
tells ``benchmarks/track_record.py`` from ``pages/track_record.py`` (both would be the module ``track_record``)."""
