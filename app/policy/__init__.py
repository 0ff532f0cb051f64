"""Stream policies: whether, where and how a request is sent (issue 5).

Intake applies them in this order, one record at a time (it owns the tenant tables):

    safety (PII, injection, keywords) → pattern responder → response cache
    → router (``model: "auto"``) + context trimming → rate limits → budget reservation

Free answers (pattern, response cache) never touch a rate limit or a budget. Each
reservation is settled by the stage that publishes the request's answer
(``frugalflow.policy.ledger``).
"""
