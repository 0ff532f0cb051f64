"""``/v1/experiments``: create, list, read, analyse and move A/B experiments."""

from __future__ import annotations

from aiohttp import web

from frugalflow.api.errors import conflict, not_found
from frugalflow.api.models import AnalysisQuery, ExperimentList, ExperimentsQuery
from frugalflow.api.routing import EXPERIMENT_ID, Operation, body, json, path_param, query, state
from frugalflow.experiments import store
from frugalflow.experiments.analysis import analyze_stored
from frugalflow.experiments.models import (
    TRANSITIONS,
    Experiment,
    ExperimentAnalysis,
    ExperimentIn,
    StatusIn,
)
from frugalflow.reports.rollups import Conn


async def create(request: web.Request) -> web.Response:
    payload = await body(request, ExperimentIn)
    try:
        experiment = await store.create(await state(request).pool(), payload)
    except store.ExperimentExists as exc:
        raise conflict(str(exc)) from None
    return json(experiment, 201)


async def list_experiments(request: web.Request) -> web.Response:
    q = query(request, ExperimentsQuery)
    found = await store.list_all(await state(request).pool(), q.tenant, q.status)
    return json(ExperimentList(experiments=found))


async def _existing(conn: Conn, request: web.Request) -> Experiment:
    experiment_id = path_param(request, EXPERIMENT_ID)
    experiment = await store.get(conn, experiment_id)
    if experiment is None:
        raise not_found(f"no experiment {experiment_id!r}")
    return experiment


async def get(request: web.Request) -> web.Response:
    return json(await _existing(await state(request).pool(), request))


async def analysis(request: web.Request) -> web.Response:
    q = query(request, AnalysisQuery)
    pool = await state(request).pool()
    experiment = await _existing(pool, request)
    min_sample = q.min_sample or state(request).settings.experiment_min_sample
    return json(await analyze_stored(pool, experiment, min_sample=min_sample))


async def set_status(request: web.Request) -> web.Response:
    pool = await state(request).pool()
    experiment = await _existing(pool, request)
    wanted = (await body(request, StatusIn)).status
    if wanted == experiment.status:
        return json(experiment)
    if wanted not in TRANSITIONS[experiment.status]:
        raise conflict(f"an experiment cannot go from {experiment.status!r} to {wanted!r}")
    updated = await store.set_status(pool, experiment.id, wanted)
    if updated is None:
        raise not_found(f"no experiment {experiment.id!r}")
    return json(updated)


_ONE = "/v1/experiments/{id}"
OPERATIONS = [
    Operation("POST", "/v1/experiments", create, "Create an experiment (first variant: control)",
              "experiments", "createExperiment", body=ExperimentIn, response=Experiment,
              status=201, errors=(400, 409, 422)),
    Operation("GET", "/v1/experiments", list_experiments, "List experiments", "experiments",
              "listExperiments", query=ExperimentsQuery, response=ExperimentList, errors=(400,)),
    Operation("GET", _ONE, get, "An experiment", "experiments", "getExperiment",
              path_params=(EXPERIMENT_ID,), response=Experiment, errors=(400, 404)),
    Operation("GET", f"{_ONE}/analysis", analysis, "Variants against the control",
              "experiments", "analyzeExperiment", path_params=(EXPERIMENT_ID,),
              query=AnalysisQuery, response=ExperimentAnalysis, errors=(400, 404)),
    Operation("POST", f"{_ONE}/status", set_status,
              "Change the status (draft → running ⇄ paused → completed)", "experiments",
              "setExperimentStatus", path_params=(EXPERIMENT_ID,), body=StatusIn,
              response=Experiment, errors=(400, 404, 409, 422)),
]  # fmt: skip
