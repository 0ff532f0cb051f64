"""The reporting commands of ``frugalflow``: ``status``, ``optimize``, ``export``,
``experiments`` and ``replay``, one module each, over ``frugalflow.reports`` and the demo stack.

Every command returns an exit code (0 ok, 1 failure, 2 bad usage or input) and never
prints the database DSN.
"""
