"""One schema per API resource: pydantic models that parse the input, shape the output and
make the OpenAPI document.

Why pydantic v2: ``model_json_schema`` is JSON Schema 2020-12, the schema dialect of
OpenAPI 3.1, so the document's component schemas are the models' own schemas with no
generator in between; its validation core is compiled (cheap per request); and a model is
one typed class next to its handlers. marshmallow would need apispec and a plugin to say
the same thing.

- A request body is a ``Body`` (``parse_body``), query parameters a ``Query``
  (``parse_query``); a wrong type is a 422 problem naming the field, as before.
  A validator that knows the domain's own message raises the ``DomainError`` itself
  (pydantic lets any exception other than ValueError through).
- An answer is a model built from the domain objects and rendered with ``render``
  (``exclude_unset``: a key the code leaves out stays out).
- ``operation`` describes a handler; ``openapi_document`` reads the routes of the
  blueprint and their models.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Annotated, Any, ClassVar

from flask import current_app, jsonify, request, url_for
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    Strict,
    ValidationError,
    WithJsonSchema,
    create_model,
    model_validator,
)
from pydantic.json_schema import models_json_schema

from app.db import MAX_ID
from app.errors import DomainError

# ------------------------------------------------------------------ field types


def whole(value):
    """JSON has numbers, not integers: 24.0 is the whole number 24 (as JSON Schema says)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _none_as_empty(value):
    return "" if value is None else value


# a whole number in a JSON body: 24 or 24.0, never "24" or true
WholeNumber = Annotated[int, Strict(), BeforeValidator(whole)]
# an object id in a body: one that cannot exist is invalid input, not a database error
Id = Annotated[WholeNumber, Field(ge=1, le=MAX_ID)]
# an object id in a query string
QueryId = Annotated[int, Field(ge=1, le=MAX_ID)]
SchoolYear = Annotated[
    int,
    Field(ge=2000, le=2100, description="the calendar year in which the school year starts (2026 = 2026/27)"),
]


def Text(max_length: int, **field):
    """A text in a body of at most ``max_length`` characters; null or left out is empty text."""
    return Annotated[str, Strict(), BeforeValidator(_none_as_empty), Field(max_length=max_length, **field)]


# a moment as the code has always written it (datetime.isoformat: +00:00, not Z)
IsoDateTime = Annotated[
    datetime,
    PlainSerializer(lambda d: d.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
# a JSON number: an int stays an int on the wire (24, not 24.0)
Number = Annotated[int | float, WithJsonSchema({"type": "number"})]


def one_of(values: Iterable[str]):
    """A string out of a fixed list (an enum's values), written out in the schema."""
    from typing import Literal

    return Literal[tuple(values)]


class Out(BaseModel):
    """An answer's shape (built by the code from domain objects)."""

    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------ input


_MESSAGES = {
    "missing": "{name} is required.",
    "int_type": "{name} must be a whole number.",
    "int_parsing": "{name} must be a whole number.",
    "int_from_float": "{name} must be a whole number.",
    "greater_than_equal": "{name} is out of range.",
    "less_than_equal": "{name} is out of range.",
    "string_type": "{name} must be a text.",
    "string_too_short": "{name} must not be empty.",
    "string_too_long": "{name} must be a text of at most {max_length} characters.",
    "bool_type": "{name} must be true or false.",
    "bool_parsing": "{name} must be true or false.",
    "enum": "{name} must be one of: {expected}.",
    "literal_error": "{name} must be one of: {expected}.",
    "list_type": "{name} must be a list.",
    "too_long": "{name} must have at most {max_length} items.",
    "date_type": "{name} must be a date.",
}


class _Input(BaseModel):
    # messages: a field's own message for any mistake in it ("name") or for one kind of
    # mistake ("name:error type"), instead of the type's message
    messages: ClassVar[dict[str, str]] = {}
    code: ClassVar[str] = "invalid_input"

    @classmethod
    def problem(cls, exc: ValidationError) -> DomainError:
        err = exc.errors(include_url=False)[0]
        name = str(err["loc"][0]) if err["loc"] else None
        if err["type"] == "too_long" and isinstance(err.get("input"), str):
            err["type"] = "string_too_long"
        own = cls.messages.get(f"{name}:{err['type']}", cls.messages.get(name))
        if own is not None:
            message = own
        elif err["type"] == "value_error":
            message = str(err["ctx"]["error"])
        else:
            template = _MESSAGES.get(err["type"], "{name} is not valid.")
            message = template.format(name=name or "the input", **(err.get("ctx") or {}))
        if cls.code == "invalid_input":
            from app.booking.errors import InvalidInput

            return InvalidInput(message, field=name)
        return DomainError(message, code=cls.code, field=name)

    @classmethod
    def parse(cls, data: dict):
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise cls.problem(exc) from None


class Body(_Input):
    """A JSON request body: unknown fields are ignored, a wrong one is a 422 (invalid_input)."""


class Query(_Input):
    """Query parameters: an empty one counts as absent; a wrong one is a 422 (invalid_parameter)."""

    code: ClassVar[str] = "invalid_parameter"

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data):
        return {k: v for k, v in data.items() if v != ""} if isinstance(data, dict) else data


def json_body() -> dict:
    """The request's JSON object, or a 400/415 problem."""
    if not request.is_json:
        err = DomainError("Send a JSON object with Content-Type: application/json.", code="unsupported_media_type")
        err.status = 415
        raise err
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        err = DomainError("The request body must be a JSON object.", code="bad_request")
        err.status = 400
        raise err
    return data


def parse_body(model: type[Body]):
    return model.parse(json_body())


def parse_query(model: type[Query]):
    return model.parse(request.args.to_dict())


# ------------------------------------------------------------------ output


def render(answer: BaseModel, status: int = 200):
    resp = jsonify(answer.model_dump(mode="json", exclude_unset=True))
    resp.status_code = status
    return resp


def _page_size_max(schema: dict) -> None:
    schema["maximum"] = current_app.config["API_PAGE_SIZE_MAX"]


class PageQuery(Query):
    """?page= and ?per_page= of a list (per_page at most the configured API_PAGE_SIZE_MAX)."""

    page: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    per_page: Annotated[int, Field(ge=1, json_schema_extra=_page_size_max)] = 50

    @classmethod
    def problem(cls, exc: ValidationError) -> DomainError:
        if exc.errors()[0]["loc"][:1] in ((), ("page",), ("per_page",)):
            size = current_app.config["API_PAGE_SIZE_MAX"]
            return DomainError(f"page must be >= 1 and per_page between 1 and {size}.", code=cls.code)
        return super().problem(exc)

    @model_validator(mode="after")
    def _size_in_range(self):
        if self.per_page > current_app.config["API_PAGE_SIZE_MAX"]:
            raise ValueError("per_page is out of range.")
        return self


class PageOut(Out):
    page: int
    per_page: int
    total: int
    next: str | None


_pages: dict[type, type[PageOut]] = {}


def page_of(item: type[Out]) -> type[PageOut]:
    """The page model of a list of ``item`` (component ``<Item>Page``)."""
    if item not in _pages:
        _pages[item] = create_model(f"{item.__name__}Page", __base__=PageOut, items=(list[item], ...))
    return _pages[item]


def render_page(item: type[Out], items: list, q: PageQuery, total: int):
    """A page {items, page, per_page, total, next} of the list this request asked for."""
    nxt = None
    if q.page * q.per_page < total:
        args = request.args.to_dict()
        args.update(page=q.page + 1, per_page=q.per_page)
        nxt = url_for(request.endpoint, **(request.view_args or {}), **args)
    return render(page_of(item)(items=items, page=q.page, per_page=q.per_page, total=total, next=nxt))


def paginate(stmt, q: PageQuery, item: type[Out], build: Callable[[list], list]):
    """Run a select for the page ``q`` asks; ``build`` makes the items of the rows."""
    from sqlalchemy import func, select

    from app.extensions import db

    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(stmt.limit(q.per_page).offset((q.page - 1) * q.per_page)).all()
    return render_page(item, build(rows), q, total)


# ------------------------------------------------------------------ the OpenAPI document


class Problem(Out):
    """An error (RFC 9457, application/problem+json) with a stable code and, for input, the field."""

    model_config = ConfigDict(extra="allow")
    type: str = "about:blank"
    title: str = ""
    status: int
    code: str
    detail: str
    field: str | None = None


def operation(
    summary: str,
    *,
    query: type[Query] | None = None,
    body: type[Body] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    problems: Iterable[int] = (),
    description: str = "",
):
    """Describe a handler in the OpenAPI document (its path and method come from its route)."""

    def mark(view):
        view.api_operation = {
            "summary": summary,
            "query": query,
            "body": body,
            "response": response,
            "status": status,
            "problems": tuple(problems),
            "description": description,
        }
        return view

    return mark


_ARG = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def _inline(schema, defs: dict):
    """The schema with the local $refs of its $defs written out (a parameter stands alone)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _inline(defs[schema["$ref"].rsplit("/", 1)[1]], defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k not in ("title", "$defs")}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema


def _not_null(schema: dict) -> dict:
    """A query parameter is absent rather than null: drop the null branch pydantic adds."""
    branches = [b for b in schema.get("anyOf", []) if b != {"type": "null"}]
    if len(branches) == 1 and len(schema.get("anyOf", [])) == 2:
        schema = {**{k: v for k, v in schema.items() if k != "anyOf"}, **branches[0]}
    if schema.get("default", 0) is None:
        schema = {k: v for k, v in schema.items() if k != "default"}
    return schema


def query_parameters(model: type[Query]) -> list[dict]:
    schema = model.model_json_schema(mode="validation")
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema["properties"].items():
        prop = _not_null(_inline(prop, defs))
        param = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if "description" in prop:
            param["description"] = prop.pop("description")
        params.append(param)
    return params


def _problems(statuses) -> dict:
    return {
        str(s): {
            "description": "Problem",
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for s in statuses
    }


def openapi_document(app, prefix: str, info: dict) -> dict:
    """The OpenAPI 3.1 document of the routes under ``prefix`` whose handler has an ``operation``."""
    ops = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        spec = getattr(view, "api_operation", None)
        if spec is None or not rule.rule.startswith(prefix):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            ops.append((rule, method.lower(), spec, getattr(view, "token_required", False)))

    models = [(Problem, "serialization")]
    for _rule, _method, spec, _auth in ops:
        if spec["body"] is not None:
            models.append((spec["body"], "validation"))
        if spec["response"] is not None:
            models.append((spec["response"], "serialization"))
    refs, top = models_json_schema(list(dict.fromkeys(models)), ref_template="#/components/schemas/{model}")

    def content(model, mode):
        return {"application/json": {"schema": refs[(model, mode)]}}

    paths: dict = {}
    for rule, method, spec, auth in ops:
        path = _ARG.sub(r"{\1}", rule.rule[len(prefix) :])
        params = [
            {"name": a, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
            for a in sorted(rule.arguments)
        ]
        if spec["query"] is not None:
            params += query_parameters(spec["query"])
        ok = {"description": spec["summary"]}
        if spec["response"] is not None:
            ok["content"] = content(spec["response"], "serialization")
        op: dict[str, Any] = {"summary": spec["summary"]}
        if spec["description"]:
            op["description"] = spec["description"]
        if params:
            op["parameters"] = params
        if spec["body"] is not None:
            op["requestBody"] = {"required": True, "content": content(spec["body"], "validation")}
        op["responses"] = {str(spec["status"]): ok, **_problems(spec["problems"])}
        if not auth:
            op["security"] = []
        paths.setdefault(path, {})[method] = op
    return {
        "openapi": "3.1.0",
        "info": info,
        "servers": [{"url": prefix}],
        "paths": paths,
        "components": {
            "schemas": top.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
