"""``frugalflow bench …``: figures measured on the real pipeline, printed, never asserted.

* ``throughput`` — requests/s on the batch and the immediate path, worker CPU and peak
  RSS, next to a raw aiokafka consume → produce passthrough on the same broker;
* ``latency`` — what the immediate path adds to a direct SDK call (P50/P95/P99);
* ``cost`` — reference workloads (document processing, a coaching chat mix) priced from
  their cost events and extrapolated exactly;
* ``sink`` — cost events per second into Postgres (``CostStore`` and the sink agent);
* ``memory`` — the worker's RSS, sampled every second over a long batch-path run.

Each bench runs on its own deployment (``runner.bench_stack``): fresh topics under a
per-run prefix, its own consumer group, a scratch Postgres schema and the emulator,
all removed afterwards, so a bench never mixes with real traffic or real cost rows.
"""
