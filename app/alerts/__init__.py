"""Alert delivery (issue 18, part 2): every alert on ``llm.alerts`` to the channels its
tenant's policy (or the deployment default) names — webhook, Slack, PagerDuty, e-mail."""
