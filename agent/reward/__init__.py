"""Rewards for RL and judges for the benchmark: the rule reward (``rule.py``), the compact generalist reward model
(``grm.py``), both measured on rendered pixels through the criteria catalogue (``criteria.py``)."""
