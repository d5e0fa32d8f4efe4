"""Analytics over the park data model: functions named ``compute_*`` that read a ``Store`` and return results.

- ``parkbrain.analytics.quality``: ``compute_quality`` — the data-quality report (completeness, validity,
  duplicates, timeliness, consistency) per table and per source; its rules are declared as data in
  ``quality_rules``.
"""
