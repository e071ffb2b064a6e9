"""The agent: policies, data, training, evaluation and the ``retouchiq`` command line."""
