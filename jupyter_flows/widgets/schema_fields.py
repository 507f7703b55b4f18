"""The fields of a SchemaForm: one control per kind of property, and how the control's
state becomes a value and back (``schema_form`` picks the kind from the schema)."""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets

from jupyter_flows.run_configs.masking import looks_secret

__all__ = [
    "EMPTY", "ERROR_COLOR", "SECRET_SET", "CheckboxField", "ChoiceField", "ConstField",
    "EnvRow", "Field", "FieldParseError", "JsonField", "KeyValueField", "ListField",
    "ScalarField", "TextField",
]

EMPTY: Any = type("Empty", (), {"__repr__": lambda self: "<empty>"})()
"""What ``Field.get`` returns for an empty control: the field is left out of the value."""
_UNSET: Any = type("Unset", (), {"__repr__": lambda self: "<not set>"})()
ERROR_COLOR = "#c62828"
_LABEL_WIDTH = "170px"
_WIDE = "420px"  # the width of the editors that hold more than one value


class FieldParseError(ValueError):
    """A control's text cannot become a value of its field (bad JSON, not a number...)."""


# ----------------------------------------------------------------------------- fields
class Field:
    """One property: its control, its label and the message shown next to it."""

    kind = "field"

    def __init__(self, name: str, schema: Mapping[str, Any], alts: list[dict[str, Any]],
                 nullable: bool, required: bool) -> None:
        self.name = name
        self.schema = dict(schema)
        self.alts = alts
        self.nullable = nullable
        self.required = required
        self.title = str(schema.get("title") or name)
        self.description = str(schema.get("description") or "")
        examples = schema.get("examples") or []
        self.example = examples[0] if examples else None
        self.control = self._make_control()
        self.message = widgets.HTML(value="")
        self._error = ""
        label = widgets.Label(value=self.title + (" *" if required else ""),
                              tooltip=self.description or None,
                              layout=widgets.Layout(width=_LABEL_WIDTH, flex="0 0 auto"))
        self.row = widgets.HBox([label, self.control, self.message],
                                layout=widgets.Layout(align_items="flex-start"))
        default = schema.get("default")
        if default is not None:
            self.set(default)

    # subclasses: the control, and how its state becomes a value and back
    def _make_control(self) -> Any:
        raise NotImplementedError

    def get(self) -> Any:
        """The value, ``EMPTY`` when the control is empty; ``FieldParseError`` if unreadable."""
        raise NotImplementedError

    def set(self, value: Any) -> None:
        raise NotImplementedError

    def observe(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever the user changes this field."""
        self.control.observe(lambda _change: callback(), names="value")

    # the message next to the field
    @property
    def error(self) -> str:
        return self._error

    def show_error(self, text: str) -> None:
        self._error = text
        self.message.value = (
            f'<span style="color:{ERROR_COLOR}">{html.escape(text)}</span>' if text else "")

    def _tooltip(self) -> str | None:
        return self.description or None

    def _placeholder(self) -> str:
        if self.example is None:
            return ""
        text = self.example if isinstance(self.example, str) else json.dumps(self.example)
        return f"e.g. {text}"


class ConstField(Field):
    """A fixed value (``const``): shown as text, not editable."""

    kind = "const"

    def _make_control(self) -> Any:
        self.value = self.schema.get("const")
        return widgets.Label(value=str(self.value), tooltip=self._tooltip())

    def get(self) -> Any:
        return self.value

    def set(self, value: Any) -> None:
        if value != self.value:
            raise FieldParseError(f"{self.name} is always {self.value!r}, got {value!r}")


class TextField(Field):
    kind = "text"

    def _make_control(self) -> Any:
        return widgets.Text(placeholder=self._placeholder(), tooltip=self._tooltip())

    def get(self) -> Any:
        text: str = self.control.value
        return text if text.strip() else EMPTY

    def set(self, value: Any) -> None:
        self.control.value = "" if value is None else str(value)


class ScalarField(TextField):
    """Text for numbers, or for a union of numbers and strings (a quantity like '500m')."""

    kind = "number"

    def _make_control(self) -> Any:
        kinds = {a.get("type") for a in self.alts}
        self.integer_only = "integer" in kinds and "number" not in kinds
        self.numeric = kinds & {"integer", "number"}
        self.takes_string = "string" in kinds
        control = super()._make_control()
        if not self.takes_string and not control.placeholder:
            control.placeholder = self._bounds_text() or (
                "an integer" if self.integer_only else "a number")
        return control

    def get(self) -> Any:
        text = self.control.value.strip()
        if not text:
            return EMPTY
        number = _number(text, integer=self.integer_only)
        if number is None:
            if self.takes_string:
                return self.control.value
            what = "an integer" if self.integer_only else "a number"
            raise FieldParseError(f"expected {what}, got {text!r}")
        if not self.takes_string:
            self._check_bounds(number)
        return number

    def _numeric_schema(self) -> dict[str, Any]:
        return next((a for a in self.alts if a.get("type") in ("integer", "number")), {})

    def _bounds_text(self) -> str:
        schema = self._numeric_schema()
        parts = [f"{op} {schema[key]}" for key, op in
                 (("minimum", ">="), ("exclusiveMinimum", ">"),
                  ("maximum", "<="), ("exclusiveMaximum", "<")) if key in schema]
        return " and ".join(parts)

    def _check_bounds(self, number: float) -> None:
        schema = self._numeric_schema()
        checks = (("minimum", lambda b: number >= b), ("exclusiveMinimum", lambda b: number > b),
                  ("maximum", lambda b: number <= b), ("exclusiveMaximum", lambda b: number < b))
        if any(key in schema and not ok(schema[key]) for key, ok in checks):
            what = "an integer" if self.integer_only else "a number"
            raise FieldParseError(f"expected {what} {self._bounds_text()}, got {number}")


def _number(text: str, *, integer: bool) -> int | float | None:
    try:
        return int(text)
    except ValueError:
        pass
    if integer:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None


class ChoiceField(Field):
    """A Dropdown of ``enum`` values (or true/false for a nullable boolean)."""

    kind = "choice"

    def _make_control(self) -> Any:
        choices: list[Any] = []
        for alt in self.alts:
            if "enum" in alt:
                choices.extend(alt["enum"])
            elif "const" in alt:
                choices.append(alt["const"])
            elif alt.get("type") == "boolean":
                choices.extend([True, False])
        options: list[tuple[str, Any]] = [
            (json.dumps(c) if not isinstance(c, str) else c, c) for c in choices]
        if self.nullable or not self.required:
            options.insert(0, ("(not set)", _UNSET))
        return widgets.Dropdown(options=options, tooltip=self._tooltip())

    def get(self) -> Any:
        value = self.control.value
        return EMPTY if value is _UNSET or value is None else value

    def set(self, value: Any) -> None:
        if value is None:
            if any(v is _UNSET for _, v in self.control.options):
                self.control.value = _UNSET
            return
        for _, option in self.control.options:
            if option is not _UNSET and option == value and type(option) is type(value):
                self.control.value = option
                return
        raise FieldParseError(f"{self.name}: {value!r} is not one of the choices")


class CheckboxField(Field):
    kind = "checkbox"

    def _make_control(self) -> Any:
        return widgets.Checkbox(value=False, indent=False, tooltip=self._tooltip())

    def get(self) -> Any:
        return bool(self.control.value)

    def set(self, value: Any) -> None:
        self.control.value = bool(value)


class ListField(Field):
    """A tag-like editor for a list of strings, integers or numbers."""

    kind = "list"

    def _make_control(self) -> Any:
        items = self.alts[0].get("items") or {}
        kind = items.get("type")
        # as wide as the other editors: an empty tags input is otherwise a sliver
        common: dict[str, Any] = {"tooltip": self._tooltip(), "placeholder": self._hint(),
                                  "layout": widgets.Layout(width=_WIDE, min_height="28px")}
        if kind == "integer":
            return widgets.IntsInput(value=[], **common, **_int_bounds(items))
        if kind == "number":
            return widgets.FloatsInput(value=[], **common)
        return widgets.TagsInput(value=[], allowed_tags=list(items.get("enum") or []),
                                 allow_duplicates=not self.alts[0].get("uniqueItems", False),
                                 **common)

    def _hint(self) -> str:
        example = self.example
        if isinstance(example, list) and example:
            return f"e.g. {', '.join(map(str, example))}: type one, press Enter"
        return "type a value, press Enter"

    def get(self) -> Any:
        values = list(self.control.value)
        return values if values else EMPTY

    def set(self, value: Any) -> None:
        if isinstance(value, str) or not isinstance(value, list | tuple | type(None)):
            raise FieldParseError(f"{self.name}: expected a list, got {value!r}")
        self.control.value = list(value or [])


def _int_bounds(items: Mapping[str, Any]) -> dict[str, int]:
    bounds = {}
    if isinstance(items.get("minimum"), int):
        bounds["min"] = items["minimum"]
    if isinstance(items.get("maximum"), int):
        bounds["max"] = items["maximum"]
    return bounds


SECRET_SET = "set, hidden: type to replace"
"""The placeholder of a secret value's field once the kernel holds the value."""


class EnvRow:
    """One row of a ``KeyValueField``: a name, its value and a remove button.

    The value of a name that looks secret (``run_configs.masking``: KEY, TOKEN, PASSWORD...)
    is typed into a Password field that sends it on Enter or blur, never per keystroke; the
    kernel then keeps it in this object only and empties the field. So the secret is in no
    widget's synced state, and not in the widget state a notebook saves.
    """

    def __init__(self, key: str, value: str, on_change: Callable[[], None],
                 on_remove: Callable[[EnvRow], None]) -> None:
        self._on_change = on_change
        self._secret: str | None = None
        self.name = widgets.Text(value=key, placeholder="NAME",
                                 layout=widgets.Layout(width="180px"))
        self.remove_button = widgets.Button(icon="trash", tooltip="remove this row",
                                            layout=widgets.Layout(width="40px"))
        self.remove_button.on_click(lambda _b: on_remove(self))
        self.control: Any = self._make_value(looks_secret(key))
        self.box = widgets.HBox([self.name, self.control, self.remove_button])
        self.name.observe(lambda _c: self._name_changed(), names="value")
        self.set_value(value)

    @property
    def secret(self) -> bool:
        return isinstance(self.control, widgets.Password)

    @property
    def value(self) -> str:
        if self.secret:
            return self._secret or ""
        return str(self.control.value)

    def set_value(self, value: str) -> None:
        if self.secret:
            self._keep(value)
        else:
            self.control.value = value

    def close(self) -> None:
        for widget in (self.name, self.control, self.remove_button, self.box):
            widget.close()

    def _make_value(self, secret: bool) -> Any:
        layout = widgets.Layout(width="220px")
        if secret:
            control: Any = widgets.Password(value="", placeholder="secret value",
                                            continuous_update=False, layout=layout)
        else:
            control = widgets.Text(value="", placeholder="value", layout=layout)
        control.observe(lambda _c: self._value_changed(), names="value")
        return control

    def _value_changed(self) -> None:
        if self.secret and self.control.value:
            self._keep(self.control.value)
        self._on_change()

    def _keep(self, value: str) -> None:
        """Hold a secret here and empty its field (the placeholder says one is set)."""
        self._secret = value
        self.control.placeholder = SECRET_SET if value else "secret value"
        if self.control.value:
            self.control.value = ""

    def _name_changed(self) -> None:
        secret = looks_secret(self.name.value)
        if secret != self.secret:  # swap the value's field, carrying the value over
            value, old = self.value, self.control
            self._secret = None
            self.control = self._make_value(secret)
            self.set_value(value)
            self.box.children = [self.name, self.control, self.remove_button]
            old.close()  # a closed widget leaves the saved widget state
        self._on_change()


class KeyValueField(Field):
    """Rows of name and value, for an object whose values are strings (``env``); values of
    secret-looking names are hidden and stay in the kernel (see ``EnvRow``)."""

    kind = "key-value"

    def _make_control(self) -> Any:
        self.rows: list[EnvRow] = []
        self._callbacks: list[Callable[[], None]] = []
        self.add_button = widgets.Button(description="add", icon="plus",
                                         layout=widgets.Layout(width="80px"),
                                         tooltip=f"add a row to {self.title}")
        self.add_button.on_click(lambda _b: self.add_row())
        self._rows_box = widgets.VBox([])
        return widgets.VBox([self._rows_box, self.add_button])

    def add_row(self, key: str = "", value: str = "") -> EnvRow:
        row = EnvRow(key, value, self._changed, lambda r: self.remove_row(self.rows.index(r)))
        self.rows.append(row)
        self._rows_box.children = [*self._rows_box.children, row.box]
        self._changed()
        return row

    def remove_row(self, index: int) -> None:
        row = self.rows.pop(index)
        self._rows_box.children = [r.box for r in self.rows]
        row.close()
        self._changed()

    def get(self) -> Any:
        result: dict[str, str] = {}
        for row in self.rows:
            key, value = row.name.value.strip(), row.value
            if not key:
                if value:
                    raise FieldParseError(
                        "a value has no name" if row.secret else f"the value {value!r} has no name")
                continue
            if key in result:
                raise FieldParseError(f"{key!r} is given twice")
            result[key] = value
        return result if result else EMPTY

    def set(self, value: Any) -> None:
        if value is not None and not isinstance(value, Mapping):
            raise FieldParseError(f"{self.name}: expected a mapping, got {value!r}")
        for row in self.rows:
            row.close()
        self.rows.clear()
        self._rows_box.children = []
        for key, item in (value or {}).items():
            self.add_row(str(key), "" if item is None else str(item))
        self._changed()

    def observe(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)

    def _changed(self) -> None:
        for callback in self._callbacks:
            callback()


class JsonField(Field):
    """A Textarea holding JSON, checked as it is typed."""

    kind = "json"

    def _make_control(self) -> Any:
        kinds = {a.get("type") for a in self.alts}
        self.takes_string = "string" in kinds
        self.expects = next((k for k in ("object", "array") if k in kinds), None)
        if self.takes_string and self.expects is None:
            self.expects = "string"
        placeholder = self._placeholder() or ("{}" if self.expects == "object" else "")
        if self.takes_string:
            placeholder = f"{placeholder} (JSON, or text)".strip()
        control = widgets.Textarea(placeholder=placeholder, tooltip=self._tooltip(),
                                   layout=widgets.Layout(width=_WIDE, height="80px"))
        # say at once when the text is not JSON; the model's rules wait for Apply
        control.observe(lambda _c: self._check(), names="value")
        return control

    def _check(self) -> None:
        try:
            self.get()
        except FieldParseError as exc:
            self.show_error(str(exc))
        else:
            self.show_error("")

    def get(self) -> Any:
        text = self.control.value
        if not text.strip():
            return EMPTY
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            if self.takes_string:
                return text
            raise FieldParseError(
                f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
        if self.expects == "object" and not isinstance(value, dict):
            if self.takes_string:
                return text
            raise FieldParseError(f"expected a JSON object like {{\"key\": 1}}, "
                                  f"got {_json_kind(value)}")
        if self.expects == "array" and not isinstance(value, list):
            raise FieldParseError(f"expected a JSON array like [1, 2], got {_json_kind(value)}")
        return value

    def set(self, value: Any) -> None:
        if value is None:
            self.control.value = ""
        elif isinstance(value, str) and self.takes_string:
            self.control.value = value
        else:
            self.control.value = json.dumps(value, indent=2)


def _json_kind(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)
