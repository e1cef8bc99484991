"""Conversions between the wire messages and plain Python values."""
from __future__ import annotations

import json
from typing import Any, Mapping

from ._gen.orchestrator.v1 import orchestrator_pb2 as pb

TERMINAL = ("completed", "failed", "cancelled", "timed_out")


def payload_strings(payload: Mapping[str, Any]) -> dict:
    """Payload values as the wire carries them: strings kept, anything else as JSON (the daemon decodes JSON)."""
    out = {}
    for key, value in payload.items():
        out[str(key)] = value if isinstance(value, str) else json.dumps(value)
    return out


def submit_request(
    task_type: str | None = None,
    payload: Mapping[str, Any] | None = None,
    *,
    id: str = "",
    task_class: str = "",
    priority: int = 0,
    labels: Mapping[str, str] | None = None,
    max_attempts: int = 0,
    timeout_seconds: int = 0,
    at_most_once: bool = False,
    worker_labels: Mapping[str, str] | None = None,
) -> pb.SubmitTaskRequest:
    """The SubmitTaskRequest for one task."""
    values = dict(payload or {})
    if task_type is not None:
        values["task_type"] = task_type
    return pb.SubmitTaskRequest(
        id=id,
        payload=payload_strings(values),
        priority=priority,
        labels=dict(labels or {}),
        max_attempts=max_attempts,
        timeout_seconds=timeout_seconds,
        at_most_once=at_most_once,
        worker_labels=dict(worker_labels or {}),
        **{"class": task_class},
    )


_SCALARS = ("id", "status", "state", "priority", "error", "attempts", "max_attempts", "timeout_seconds",
            "workflow_id", "created_at_ms", "started_at_ms", "finished_at_ms", "not_before_ms", "waiting_reason",
            "interruptions", "max_interruptions")


def task_dict(task: pb.Task) -> dict:
    """A task record as a dict with the proto's field names; `output` is the result's `data` decoded from JSON.

    Built field by field rather than with json_format, whose options differ between protobuf 3.x and 5.x.
    """
    record = {name: getattr(task, name) for name in _SCALARS}
    record["class"] = getattr(task, "class")
    record["payload"] = dict(task.payload)
    record["result"] = dict(task.result)
    record["labels"] = dict(task.labels)
    record["output"] = decode_output(record["result"])
    return record


def decode_output(result: Mapping[str, str]) -> Any:
    """The task's output: the JSON in `data` (or `data_json`), decoded."""
    text = result.get("data") or result.get("data_json")
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text
