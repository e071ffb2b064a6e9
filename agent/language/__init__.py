"""What photographers say: phrase banks of requests and amounts (``banks``) and named looks (``looks``).

Shared by the synthesis of training data (agent/data), which draws requests from them, and by the policies, which
read requests with their words (amount words, courtesies, the words the policy was trained on).
"""
