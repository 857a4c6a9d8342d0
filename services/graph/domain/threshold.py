"""The per-owner similarity threshold of automatic SEMANTIC links, learned from feedback.

The rule. Every manual link the person makes between two embedded insights is a *positive*
example (their cosine similarity); every automatic link they delete is a *negative* one. The
threshold is the midpoint between the mean positive and the mean negative similarity:

    threshold = (mean_pos + mean_neg) / 2, clamped to [MIN_THRESHOLD, MAX_THRESHOLD]

Both means are smoothed towards a prior worth PRIOR_WEIGHT examples on each side
(PRIOR_POSITIVE = 0.6, PRIOR_NEGATIVE = 0.2, whose midpoint is the DEFAULT_THRESHOLD of 0.4):

    mean_pos = (PRIOR_WEIGHT * PRIOR_POSITIVE + sum_pos) / (PRIOR_WEIGHT + n_pos)

so one-sided feedback (say, only deletions) still moves the threshold, gradually, and a single
example cannot swing it. Until MIN_EXAMPLES examples exist in total the threshold stays at the
default.

Why 0.4. all-MiniLM-L6-v2 scores two short notes low even when they are about the same thing:
among 50 short notes (1,225 pairs; tests/unit/test_link_similarity.py keeps them and the pairs
judged related) none reached 0.5 — the default until 2026-11-27 (priors 0.7 / 0.3) linked
nothing by meaning. At 0.4, 7 pairs: 6 judged related, 1 not; at 0.35, 13 with 5 not.
"""

from __future__ import annotations

from services.graph.domain.models import FeedbackStats

DEFAULT_THRESHOLD = 0.4
MIN_THRESHOLD = 0.3
MAX_THRESHOLD = 0.9
MIN_EXAMPLES = 3
PRIOR_WEIGHT = 3.0
PRIOR_POSITIVE = 0.6
PRIOR_NEGATIVE = 0.2


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
