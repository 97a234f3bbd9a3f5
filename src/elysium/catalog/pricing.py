"""The server-side price engine: what a configured piece costs and which stock variant it is.

Pure: no database, no I/O. Every amount is integer pence (prices as shown to customers, VAT
included, exactly as the atelier enters them in Sanity).

Rules worth knowing:
- Inventory options are always required, whatever their `required` flag says: a variant key
  with a hole in it would name no stock.
- Optional options may be omitted (or sent as null); they then add nothing to the price.
- `engraving` text is NFC-normalised and stripped; empty or whitespace-only text (or null) means
  no engraving and costs nothing, even on pieces that offer none.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal, NoReturn

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

ENGRAVING_KEY = "engraving"
DEFAULT_VARIANT_KEY = "default"
MAX_PRICE_PENCE = 10**11
MAX_CONFIGURATION_ENTRIES = 32
MAX_INPUT_CHARS = 1_000
MAX_VARIANT_KEY_CHARS = 2_000

_OPTION_NAME = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,199}$"
_KEY_SEPARATORS = frozenset(";=")
# Control, format (bidi overrides, zero-width), surrogate, private-use, unassigned, line and
# paragraph separators: nothing an engraver can cut, and a favourite of hostile input.
_UNENGRAVABLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})

Pence = Annotated[StrictInt, Field(ge=-MAX_PRICE_PENCE, le=MAX_PRICE_PENCE)]


class InvalidProductSpecError(ValueError):
    """A product document cannot be priced (bad price, unknown inventory option, ...)."""


class InvalidVariantKeyError(ValueError):
    """A variant key is malformed or names no variant of the product."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field, e.g. `configuration.metal`."""

    field: str
    message: str


class InvalidConfigurationError(Exception):
    """Every problem found in a configuration, reported together (rendered as a 422)."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in self.errors))

    def as_dicts(self) -> list[dict[str, str]]:
        """The errors as `{"field", "message"}` objects for a problem+json `errors` list."""
        return [asdict(error) for error in self.errors]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ValueSpec(_Frozen):
    """One choosable value of an option and what it adds to the price."""

    value: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    label: Annotated[StrictStr, Field(max_length=200)]
    price_delta_pence: Pence = 0

    @field_validator("value")
    @classmethod
    def _value_fits_in_a_variant_key(cls, value: str) -> str:
        if value != value.strip() or not value.isprintable() or _KEY_SEPARATORS & set(value):
            raise ValueError("must be printable, unpadded and free of ';' and '='")
        return value


class OptionSpec(_Frozen):
    """A configurable option (metal, carat, ring size ...)."""

    name: Annotated[StrictStr, Field(pattern=_OPTION_NAME)]
    label: Annotated[StrictStr, Field(max_length=200)]
    required: StrictBool = False
    values: Annotated[tuple[ValueSpec, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _values_are_unique(self) -> OptionSpec:
        if len({v.value for v in self.values}) != len(self.values):
            raise ValueError(f"option {self.name!r} lists a value twice")
        return self

    def value(self, value: str) -> ValueSpec | None:
        """The value spec called `value`, if any."""
        return next((v for v in self.values if v.value == value), None)


class EngravingSpec(_Frozen):
    """Whether a piece can be engraved, for how much, and how many characters fit."""

    available: StrictBool = True
    price_pence: Annotated[StrictInt, Field(ge=0, le=MAX_PRICE_PENCE)] = 0
    max_length: Annotated[StrictInt, Field(ge=1, le=200)] = 24


class ProductSpec(_Frozen):
    """What the engine needs to know about a product."""

    slug: Annotated[StrictStr, Field(pattern=SLUG_PATTERN)]
    base_price_pence: Annotated[StrictInt, Field(ge=0, le=MAX_PRICE_PENCE)]
    currency: Literal["GBP"] = "GBP"
    options: tuple[OptionSpec, ...] = ()
    inventory_options: tuple[StrictStr, ...] = ()
    engraving: EngravingSpec | None = None
    made_to_order: StrictBool = False

    @model_validator(mode="after")
    def _consistent(self) -> ProductSpec:
        names = [o.name for o in self.options]
        if len(set(names)) != len(names) or ENGRAVING_KEY in names:
            raise ValueError("option names must be unique and not 'engraving'")
        if len(set(self.inventory_options)) != len(self.inventory_options):
            raise ValueError("inventory_options lists an option twice")
        if unknown := set(self.inventory_options) - set(names):
            raise ValueError(f"inventory_options name unknown options: {sorted(unknown)}")
        if _cheapest(self) < 0:
            raise ValueError("some configuration would cost less than nothing")
        return self

    @property
    def engraving_offered(self) -> bool:
        """True when engraving can be ordered on this piece."""
        return self.engraving is not None and self.engraving.available

    def option(self, name: str) -> OptionSpec | None:
        """The option called `name`, if any."""
        return next((o for o in self.options if o.name == name), None)

    def is_required(self, option: OptionSpec) -> bool:
        """Required options and inventory options must always be chosen."""
        return option.required or option.name in self.inventory_options


def _cheapest(spec: ProductSpec) -> int:
    total = spec.base_price_pence
    for option in spec.options:
        deltas = [v.price_delta_pence for v in option.values]
        total += min(deltas) if spec.is_required(option) else min(0, *deltas)
    return total


@dataclass(frozen=True, slots=True)
class PricedConfiguration:
    """The outcome of pricing: unit price, stock variant and the cleaned configuration."""

    unit_price_pence: int
    variant_key: str
    normalized_configuration: dict[str, str]


def price_configuration(spec: ProductSpec, configuration: object) -> PricedConfiguration:
    """Validate a configuration (normally a `Mapping[str, object]`) and price it.

    Raises InvalidConfigurationError listing every problem at once.
    """
    chosen, engraving = _validated(spec, configuration)
    unit_price = spec.base_price_pence + sum(v.price_delta_pence for v in chosen.values())
    normalized = {name: value.value for name, value in chosen.items()}
    if engraving is not None and spec.engraving is not None:
        unit_price += spec.engraving.price_pence
        normalized[ENGRAVING_KEY] = engraving
    variant = format_variant_key({name: chosen[name].value for name in spec.inventory_options})
    return PricedConfiguration(unit_price, variant, normalized)


def _validated(spec: ProductSpec, configuration: object) -> tuple[dict[str, ValueSpec], str | None]:
    """The chosen values in the spec's option order, and the engraving text."""
    if not isinstance(configuration, Mapping):
        _fail("configuration", "Must be an object of option name to value.")
    if len(configuration) > MAX_CONFIGURATION_ENTRIES:
        _fail("configuration", f"At most {MAX_CONFIGURATION_ENTRIES} entries.")
    errors: list[FieldError] = []
    picked: dict[str, ValueSpec] = {}
    for key, raw in configuration.items():
        if key == ENGRAVING_KEY or raw is None:
            continue
        option = spec.option(key) if isinstance(key, str) else None
        choice = "Unknown option." if option is None else _choose(option, raw)
        if isinstance(choice, str):
            errors.append(FieldError(_field(key), choice))
        else:
            picked[choice.name] = choice.value
    given = {key for key, raw in configuration.items() if raw is not None}
    for option in spec.options:
        if spec.is_required(option) and option.name not in given:
            errors.append(FieldError(_field(option.name), "Required."))
    engraving = _engraving(spec, configuration.get(ENGRAVING_KEY), errors)
    if errors:
        raise InvalidConfigurationError(errors)
    return {o.name: picked[o.name] for o in spec.options if o.name in picked}, engraving


@dataclass(frozen=True, slots=True)
class _Choice:
    name: str
    value: ValueSpec


def _choose(option: OptionSpec, raw: object) -> _Choice | str:
    """The chosen value, or what is wrong with it."""
    if not isinstance(raw, str):
        return "Must be a string."
    value = option.value(raw)
    if value is None:
        return f"Unknown value; choose one of: {', '.join(v.value for v in option.values)}."
    return _Choice(option.name, value)


def _engraving(spec: ProductSpec, raw: object, errors: list[FieldError]) -> str | None:
    """The cleaned engraving text, None for no engraving; problems go to `errors`."""
    field = _field(ENGRAVING_KEY)
    if raw is None:
        return None
    if not isinstance(raw, str):
        errors.append(FieldError(field, "Must be a string."))
        return None
    text = raw.strip()
    if len(text) <= MAX_INPUT_CHARS:  # longer is refused anyway: spare the normaliser
        text = unicodedata.normalize("NFC", text).strip()
    if not text:
        return None
    if spec.engraving is None or not spec.engraving.available:
        errors.append(FieldError(field, "This piece cannot be engraved."))
    elif len(text) > spec.engraving.max_length:
        errors.append(FieldError(field, f"At most {spec.engraving.max_length} characters."))
    elif any(unicodedata.category(char) in _UNENGRAVABLE for char in text):
        errors.append(FieldError(field, "Contains characters that cannot be engraved."))
    else:
        return text
    return None


def _field(key: object) -> str:
    """`configuration.<key>`, or just `configuration` when the key is not fit to echo."""
    if isinstance(key, str) and re.fullmatch(_OPTION_NAME, key):
        return f"configuration.{key}"
    return "configuration"


def _fail(field: str, message: str) -> NoReturn:
    raise InvalidConfigurationError([FieldError(field, message)])


def format_variant_key(values: Mapping[str, str]) -> str:
    """`{"metal": "platinum", "carat": "1.00"}` -> `carat=1.00;metal=platinum`; {} -> `default`."""
    if not values:
        return DEFAULT_VARIANT_KEY
    for part in itertools.chain(values.keys(), values.values()):
        if not part or _KEY_SEPARATORS & set(part):
            raise InvalidVariantKeyError("variant key parts must be non-empty, without ';' or '='")
    return ";".join(f"{name}={values[name]}" for name in sorted(values))


def parse_variant_key(key: str) -> dict[str, str]:
    """`carat=1.00;metal=platinum` -> `{"carat": "1.00", "metal": "platinum"}`; `default` -> {}.

    Accepts any order; `format_variant_key(parse_variant_key(k))` is the canonical form.
    """
    if key == DEFAULT_VARIANT_KEY:
        return {}
    if not key or len(key) > MAX_VARIANT_KEY_CHARS:
        raise InvalidVariantKeyError("empty or overlong variant key")
    parsed: dict[str, str] = {}
    for part in key.split(";"):
        name, sep, value = part.partition("=")
        if not sep or not name or not value or "=" in value or name in parsed:
            raise InvalidVariantKeyError(f"malformed variant key part {part[:100]!r}")
        parsed[name] = value
    return parsed


def variant_keys_for(spec: ProductSpec) -> list[str]:
    """Every variant key of a product: all combinations of its inventory option values."""
    names = sorted(spec.inventory_options)
    choices = [[v.value for v in _option(spec, name).values] for name in names]
    return [
        format_variant_key(dict(zip(names, combo, strict=True)))
        for combo in itertools.product(*choices)
    ]


def canonical_variant_key(spec: ProductSpec, key: str) -> str:
    """The canonical form of `key` if it names a variant of `spec`; else InvalidVariantKeyError."""
    values = parse_variant_key(key)
    if set(values) != set(spec.inventory_options):
        raise InvalidVariantKeyError("variant key must name exactly the inventory options")
    for name, value in values.items():
        if _option(spec, name).value(value) is None:
            raise InvalidVariantKeyError(f"unknown value for {name!r}")
    return format_variant_key(values)


def _option(spec: ProductSpec, name: str) -> OptionSpec:
    option = spec.option(name)
    assert option is not None, "ProductSpec guarantees inventory options exist"
    return option


# --- building a spec from a Sanity product document -------------------------------------------


def pounds_to_pence(value: object) -> int:
    """Exact pounds -> pence (`3950` -> 395000, `12.5` -> 1250); refuses fractions of a penny."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise InvalidProductSpecError(f"price must be a number, got {type(value).__name__}")
    try:
        # repr() is the shortest string that round-trips a float, so 12.34 stays 12.34.
        amount = Decimal(repr(value) if isinstance(value, float) else value)
    except InvalidOperation as exc:
        raise InvalidProductSpecError("price is not a number") from exc
    if not amount.is_finite() or abs(amount) * 100 > MAX_PRICE_PENCE:
        raise InvalidProductSpecError("price is not a finite amount in range")
    pence = amount * 100
    if pence != pence.to_integral_value():
        raise InvalidProductSpecError(f"price {value} has a fraction of a penny")
    return int(pence)


def product_spec_from_sanity(doc: Mapping[str, Any]) -> ProductSpec:
    """Build a ProductSpec from a Sanity `product` document (prices there are in pounds)."""
    inventory = _sanity_list(doc.get("inventoryOptions"), "inventoryOptions")
    if "basePrice" not in doc:
        raise InvalidProductSpecError("basePrice is missing")
    try:
        return ProductSpec(
            slug=_sanity_slug(doc),
            base_price_pence=pounds_to_pence(doc["basePrice"]),
            currency=doc.get("currency") or "GBP",
            options=tuple(
                _option_from_sanity(raw, inventory)
                for raw in _sanity_list(doc.get("options"), "options")
            ),
            inventory_options=tuple(inventory),
            engraving=_engraving_from_sanity(doc.get("engraving")),
            made_to_order=doc.get("madeToOrder") or False,
        )
    except ValidationError as exc:
        raise InvalidProductSpecError(_describe(exc)) from exc


def _sanity_slug(doc: Mapping[str, Any]) -> Any:
    slug = doc.get("slug")
    return slug.get("current") if isinstance(slug, Mapping) else slug


def _option_from_sanity(raw: object, inventory: Sequence[object]) -> OptionSpec:
    if not isinstance(raw, Mapping):
        raise InvalidProductSpecError("each option must be an object")
    name = raw.get("name")
    try:
        return OptionSpec(
            name=name,
            label=raw.get("label") or name,
            required=bool(raw.get("required")) or name in inventory,
            values=tuple(
                _value_from_sanity(value)
                for value in _sanity_list(raw.get("values"), "option values")
            ),
        )
    except ValidationError as exc:
        raise InvalidProductSpecError(f"option {str(name)[:64]!r}: {_describe(exc)}") from exc


def _value_from_sanity(raw: object) -> ValueSpec:
    if not isinstance(raw, Mapping):
        raise InvalidProductSpecError("each option value must be an object")
    return ValueSpec(
        value=raw.get("value"),
        label=raw.get("label") or raw.get("value"),
        price_delta_pence=pounds_to_pence(raw.get("priceDelta") or 0),
    )


def _engraving_from_sanity(raw: object) -> EngravingSpec | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise InvalidProductSpecError("engraving must be an object")
    return EngravingSpec(
        available=raw.get("available", True),
        price_pence=pounds_to_pence(raw.get("price") or 0),
        max_length=raw.get("maxLength", 24),
    )


def _sanity_list(raw: object, what: str) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InvalidProductSpecError(f"{what} must be a list")
    return raw


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "product"
    return f"{where}: {first['msg']} ({exc.error_count()} problem(s))"
