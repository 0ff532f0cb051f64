"""The admin HTTP API (aiohttp): budgets, cost reports, experiments, cache invalidation.

One module per concern: ``app`` (factory, ``run_api``, ``main_api``), ``auth`` (bearer
tokens), ``errors`` (the error shape and codes), ``routing`` (operations as data, input
helpers), ``openapi`` (the document), ``state`` (lazy Postgres pool and Redis client),
and a module per resource: ``health``, ``budgets``, ``costs``, ``experiments``, ``cache``.
"""

from frugalflow.api.app import create_app, main_api, openapi_document, run_api

__all__ = ["create_app", "main_api", "openapi_document", "run_api"]
