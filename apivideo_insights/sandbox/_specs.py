"""api.video's OpenAPI specs shipped with the sandbox, and their documented examples.

:data:`SERVED` lists the operations the sandbox serves by spec file (``sandbox/specs``), each
from its era; :func:`write_examples` copies their documented example responses into JSON
files (``data/examples``), which the tests compare with the sandbox's answers.

>>> sorted(SERVED)
['openapi-2021-02.yaml', 'openapi-2023-09.yaml', 'openapi.yaml']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ._json import write_json

__all__ = ["SERVED", "SPECS_DIR", "load_spec", "spec_examples", "write_examples"]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "example"


#: The operations the sandbox serves, by spec file (``sandbox/specs``): each from its era.
SERVED: dict[str, tuple[tuple[str, str], ...]] = {
    "openapi.yaml": (
        ("POST", "/auth/api-key"),
        ("POST", "/auth/refresh"),
        ("GET", "/videos"),
        ("GET", "/videos/{videoId}"),
        ("GET", "/videos/{videoId}/status"),
        ("GET", "/videos/{videoId}/captions"),
        ("GET", "/videos/{videoId}/captions/{language}"),
        ("GET", "/videos/{videoId}/chapters"),
        ("GET", "/videos/{videoId}/chapters/{language}"),
        ("GET", "/live-streams"),
        ("GET", "/live-streams/{liveStreamId}"),
        ("GET", "/players"),
        ("GET", "/players/{playerId}"),
        ("GET", "/upload-tokens"),
        ("GET", "/upload-tokens/{uploadToken}"),
        ("GET", "/webhooks"),
        ("GET", "/webhooks/{webhookId}"),
        ("GET", "/data/metrics/{metric}/{aggregation}"),
        ("GET", "/data/buckets/{metric}/{breakdown}"),
        ("GET", "/data/timeseries/{metric}"),
    ),
    "openapi-2023-09.yaml": (
        ("GET", "/analytics/videos/{videoId}"),
        ("GET", "/analytics/live-streams/{liveStreamId}"),
        ("GET", "/analytics/sessions/{sessionId}/events"),
    ),
    # The first spec with /account (deprecated since, and gone from today's spec).
    "openapi-2021-02.yaml": (("GET", "/account"),),
}
SPECS_DIR = Path(__file__).parent / "specs"


def load_spec(name: str) -> dict[str, Any]:
    """A spec of ``sandbox/specs`` as a dict (needs PyYAML, a test dependency)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(SPECS_DIR / name, encoding="utf-8") as f:
        return dict(yaml.load(f, Loader=loader))  # noqa: S506 - a safe loader


def _json_safe(value: Any) -> Any:
    """YAML reads unquoted timestamps as datetimes; JSON wants the text back."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def spec_examples(
    spec: Mapping[str, Any], operations: Iterable[tuple[str, str]]
) -> list[dict[str, Any]]:
    """Every documented example response of ``operations`` (``(METHOD, route)`` pairs).

    Returns a list of ``{"method", "path", "operationId", "status", "name", "value"}``.
    """
    out = []
    for method, route in operations:
        op = spec.get("paths", {}).get(route, {}).get(method.lower())
        if not op:
            continue
        for status, response in op.get("responses", {}).items():
            for media in (response.get("content") or {}).values():
                examples = dict(media.get("examples") or {})
                if "example" in media:
                    examples = {"example": {"value": media["example"]}, **examples}
                for name, example in examples.items():
                    if isinstance(example, Mapping) and "value" in example:
                        out.append(
                            {
                                "method": method.upper(),
                                "path": route,
                                "operationId": op.get("operationId", ""),
                                "status": str(status),
                                "name": str(name),
                                "value": _json_safe(example["value"]),
                            }
                        )
    return out


def write_examples(out_dir: str | Path) -> list[Path]:
    """Write api.video's documented example responses (:data:`SERVED`), plus index.json.

    One JSON file per example, named ``{operationId}.{status}.{example}.json``, taken
    from the spec of the operation's era; ``index.json`` lists them with their method,
    route, status and spec file.

    Examples
    --------
    >>> write_examples("data/examples")                         # doctest: +SKIP
    """
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    index = []
    written = []
    seen: set[str] = set()
    for spec_name, operations in SERVED.items():
        for ex in spec_examples(load_spec(spec_name), operations):
            base = f"{_slug(ex['operationId'] or ex['path'])}.{ex['status']}.{_slug(ex['name'])}"
            name, k = base, 2
            while name in seen:
                name, k = f"{base}-{k}", k + 1
            seen.add(name)
            target = root / f"{name}.json"
            write_json(target, ex["value"])
            written.append(target)
            index.append(
                {
                    "file": target.name,
                    "spec": spec_name,
                    "method": ex["method"],
                    "path": ex["path"],
                    "operationId": ex["operationId"],
                    "status": ex["status"],
                    "example": ex["name"],
                }
            )
    write_json(root / "index.json", index)
    return written
