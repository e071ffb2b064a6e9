"""RetouchEval-dt: a fixed benchmark of instruction-based retouching in darktable (``retouchiq bench``).

``cases`` reads and checks the committed cases (``retoucheval/`` at the top of the repository), ``make`` is how
they were made (flawed sources for the enhance family, target edits fitted or written by hand, sidecars),
``run`` scores policies on them through the one edit path with darktable-cli's renders, ``judge`` asks a VLM
for SC/PQ, ``report`` writes results.json, the Markdown table and report.html.
"""
