"""upgrade-lint: finds what blocks or breaks an API-gateway platform upgrade.

The package is laid out along the data flow, one direction only:
``sources`` (inputs -> Resources) -> ``engine`` (rules -> Results) -> ``reports``.
``products`` holds the check templates the engine calls; ``plugin`` and ``cli``
are the two front ends that drive the same engine.
"""

__version__ = "0.1.0"
