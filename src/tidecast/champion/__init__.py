"""Champion and challenger: a new model version (the challenger) shadows the one an endpoint
serves (the champion) on the same requests, both are scored on the same actuals, and the
challenger is promoted when it is better by a stated margin over a stated window.

* `policy`: the promotion rule, `ChallengerPolicy` (metric, margin, window, auto or approval);
* `evaluation`: the paired scoring of both versions' logged forecasts and the verdict;
* `store`: the `challengers` table, where each challenger's state, evidence and decision live.

The serving side (shadow forecasts, promotion into the endpoint) is `tidecast.service.challengers`.
"""
