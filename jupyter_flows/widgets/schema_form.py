"""SchemaForm: an ipywidgets form generated from a JSON schema, one control per property.

The control follows the property's schema, never the model class behind it:

    const                      no control; the value is fixed (a model's ``type``)
    enum / Literal             Dropdown ("(not set)" first when the field may be empty)
    boolean                    Checkbox (a Dropdown when it may be null)
    integer / number           Text parsed as a number, bounds checked
    number-or-string union     Text; numbers stay numbers ("2" -> 2, "4Gi" stays "4Gi")
    string                     Text
    array of str / int / num   TagsInput / IntsInput / FloatsInput
    object of strings          key-value rows (Text, Text, remove) and an add button
    any other object or value  JSON editor (Textarea, parse checked as you type); with a
                               string alternative, text that is not JSON is kept as text

``anyOf`` with ``null`` makes a field nullable, ``$ref`` is resolved against ``$defs``.
An empty control is left out of ``value``, so the model's default applies. The form only
checks what it must to produce a value (JSON syntax, numbers, bounds, duplicate names);
the model decides everything else, and ``show_errors`` puts its messages next to fields.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets

from jupyter_flows.widgets.schema_fields import (
    EMPTY,
    ERROR_COLOR,
    CheckboxField,
    ChoiceField,
    ConstField,
    Field,
    FieldParseError,
    JsonField,
    KeyValueField,
    ListField,
    ScalarField,
    TextField,
)

__all__ = ["ERROR_COLOR", "FieldParseError", "SchemaForm", "make_field"]


# ----------------------------------------------------------------------------- schema
def _resolve(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = defs.get(ref.removeprefix("#/$defs/"), {})
        return {**_resolve(target, defs), **{k: v for k, v in schema.items() if k != "$ref"}}
    return dict(schema)


def _alternatives(schema: Mapping[str, Any], defs: Mapping[str, Any]
                  ) -> tuple[list[dict[str, Any]], bool]:
    """The non-null alternatives of a property, and whether null is allowed."""
    schema = _resolve(schema, defs)
    options = schema.get("anyOf") or schema.get("oneOf")
    if not options:
        kinds = schema.get("type")
        if isinstance(kinds, list):  # {"type": ["string", "null"]}
            rest = [{**schema, "type": k} for k in kinds if k != "null"]
            return rest, "null" in kinds
        return [schema], schema.get("type") == "null"
    alts: list[dict[str, Any]] = []
    nullable = False
    for option in options:
        inner, inner_null = _alternatives(option, defs)
        nullable = nullable or inner_null
        alts.extend(a for a in inner if a.get("type") != "null")
    return alts, nullable


def _is_string_map(schema: Mapping[str, Any]) -> bool:
    extra = schema.get("additionalProperties")
    return (schema.get("type") == "object" and not schema.get("properties")
            and isinstance(extra, Mapping) and extra.get("type") == "string")


def make_field(name: str, schema: Mapping[str, Any], defs: Mapping[str, Any],
               required: bool) -> Field:
    """The field for one property, chosen by its schema (see the module docstring)."""
    resolved = _resolve(schema, defs)
    alts, nullable = _alternatives(resolved, defs)
    cls: type[Field]
    kinds = {a.get("type") for a in alts}
    if "const" in resolved and len(alts) == 1:
        cls = ConstField
    elif alts and all("enum" in a or "const" in a for a in alts):
        cls = ChoiceField
    elif kinds == {"boolean"}:
        cls = ChoiceField if nullable else CheckboxField
    elif kinds == {"string"} and len(alts) == 1:
        cls = TextField
    elif kinds and kinds <= {"integer", "number", "string"} and not any(
            "enum" in a for a in alts):
        cls = ScalarField
    elif len(alts) == 1 and _is_string_map(alts[0]):
        cls = KeyValueField
    elif len(alts) == 1 and kinds == {"array"} and (alts[0].get("items") or {}).get(
            "type") in ("string", "integer", "number"):
        cls = ListField
    else:  # open objects, arrays of objects, unions with objects, any JSON value
        cls = JsonField
    return cls(name, resolved, alts, nullable, required)


# ------------------------------------------------------------------------------- form
class SchemaForm(widgets.VBox):
    """A form for one JSON schema (an object with ``properties``).

    ``value`` is the config dict the controls hold (fields that cannot be read are left
    out; ``parse`` says why); ``set_value`` fills the controls from such a dict;
    ``show_errors`` puts messages next to fields, ``errors`` reads them back.
    """

    def __init__(self, schema: Mapping[str, Any], **kwargs: Any) -> None:
        self.schema = dict(schema)
        self.title = str(schema.get("title") or "")
        defs = schema.get("$defs") or {}
        required = set(schema.get("required") or [])
        self.fields: dict[str, Field] = {
            name: make_field(name, prop, defs, name in required)
            for name, prop in (schema.get("properties") or {}).items()
        }
        self.form_message = widgets.HTML(value="")
        self._form_error = ""
        header = widgets.HTML(value=f"<b>{html.escape(self.title)}</b>"
                              + (f' <span style="color:#666">{html.escape(_first_line(schema))}'
                                 "</span>" if schema.get("description") else ""))
        rows = [f.row for f in self.fields.values() if not isinstance(f, ConstField)]
        super().__init__([header, *rows, self.form_message], **kwargs)
        for field in self.fields.values():
            if not isinstance(field, ConstField | JsonField):
                # an edited field's old message no longer describes it
                field.observe(_clearer(field))

    @classmethod
    def for_model(cls, model: Any, **kwargs: Any) -> SchemaForm:
        """The form of a pydantic model class (``model.model_json_schema()``)."""
        return cls(model.model_json_schema(), **kwargs)

    def parse(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The values of the non-empty fields, and the message of each unreadable field."""
        values: dict[str, Any] = {}
        problems: dict[str, str] = {}
        for name, field in self.fields.items():
            try:
                value = field.get()
            except FieldParseError as exc:
                problems[name] = str(exc)
                continue
            if value is not EMPTY:
                values[name] = value
        return values, problems

    @property
    def value(self) -> dict[str, Any]:
        return self.parse()[0]

    def set_value(self, value: Mapping[str, Any]) -> None:
        """Fill every control from ``value``; fields it leaves out are emptied."""
        unknown = [k for k in value if k not in self.fields]
        if unknown:
            raise ValueError(f"{self.title or 'the form'} has no field {unknown[0]!r}; "
                             f"its fields: {', '.join(self.fields)}")
        for name, field in self.fields.items():
            if name in value:
                field.set(value[name])
            elif not isinstance(field, ConstField):
                field.set(field.schema.get("default"))
        self.show_errors({})

    def show_errors(self, errors: Mapping[str, str], form_error: str = "") -> None:
        """Show ``errors`` (field name -> message) next to their fields and clear the rest;
        messages for names that are not fields join ``form_error`` under the form."""
        for name, field in self.fields.items():
            field.show_error(errors.get(name, ""))
        stray = [f"{name}: {text}" if name else text
                 for name, text in errors.items() if name not in self.fields]
        self._form_error = "\n".join(filter(None, [form_error, *stray]))
        self.form_message.value = (
            f'<pre style="color:{ERROR_COLOR};margin:0">{html.escape(self._form_error)}</pre>'
            if self._form_error else "")

    @property
    def errors(self) -> dict[str, str]:
        """The messages shown now: field name -> message (``""`` for the form itself)."""
        shown = {name: f.error for name, f in self.fields.items() if f.error}
        if self._form_error:
            shown[""] = self._form_error
        return shown


def _clearer(field: Field) -> Callable[[], None]:
    return lambda: field.show_error("")


def _first_line(schema: Mapping[str, Any]) -> str:
    return str(schema.get("description") or "").strip().splitlines()[0]
