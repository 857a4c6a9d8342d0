"""The per-owner similarity threshold of automatic SEMANTIC links, learned from feedback.

The rule. Every manual link the person makes between two embedded insights is a *positive*
example (their cosine similarity); every automatic link they delete is a *negative* one. The
threshold is the midpoint between the mean positive and the mean negative similarity:

    threshold = (mean_pos + mean_neg) / 2, clamped to [MIN_THRESHOLD, MAX_THRESHOLD]

Both means are smoothed towards a prior worth PRIOR_WEIGHT examples on each side
(PRIOR_POSITIVE = 0.7, PRIOR_NEGATIVE = 0.3, whose midpoint is the DEFAULT_THRESHOLD of 0.5):

    mean_pos = (PRIOR_WEIGHT * PRIOR_POSITIVE + sum_pos) / (PRIOR_WEIGHT + n_pos)

so one-sided feedback (say, only deletions) still moves the threshold, gradually, and a single
example cannot swing it. Until MIN_EXAMPLES examples exist in total the threshold stays at the
default.
"""

from __future__ import annotations

from services.graph.domain.models import FeedbackStats

DEFAULT_THRESHOLD = 0.5
MIN_THRESHOLD = 0.3
MAX_THRESHOLD = 0.9
MIN_EXAMPLES = 3
PRIOR_WEIGHT = 3.0
PRIOR_POSITIVE = 0.7
PRIOR_NEGATIVE = 0.3


def adapted_threshold(stats: FeedbackStats) -> float:
    if stats.positive_count + stats.negative_count < MIN_EXAMPLES:
        return DEFAULT_THRESHOLD
    mean_positive = (PRIOR_WEIGHT * PRIOR_POSITIVE + stats.positive_sum) / (
        PRIOR_WEIGHT + stats.positive_count
    )
    mean_negative = (PRIOR_WEIGHT * PRIOR_NEGATIVE + stats.negative_sum) / (
        PRIOR_WEIGHT + stats.negative_count
    )
    midpoint = (mean_positive + mean_negative) / 2
    return round(min(MAX_THRESHOLD, max(MIN_THRESHOLD, midpoint)), 6)
