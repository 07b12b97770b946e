"""Operational tasks: an echo that proves the API → broker → worker path end to end."""

from __future__ import annotations

from typing import Any

from pms.logs import get_logger, request_id_var
from pms.tasks.app import celery_app

_log = get_logger("pms.tasks.system")


@celery_app.task(name="pms.system.echo")
def echo(payload: dict[str, Any]) -> dict[str, Any]:
    rid = request_id_var.get()
    _log.info("echo", payload_keys=sorted(payload))
    return {"request_id": rid, "payload": payload}
