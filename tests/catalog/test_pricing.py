"""The price engine, against the demo catalogue and generated products (no database)."""

from __future__ import annotations

import copy
import csv
import string
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog_helpers import demo_documents
from elysium.catalog.pricing import (
    MAX_CONFIGURATION_ENTRIES,
    EngravingSpec,
    FieldError,
    InvalidConfigurationError,
    InvalidProductSpecError,
    InvalidVariantKeyError,
    OptionSpec,
    ProductSpec,
    ValueSpec,
    canonical_variant_key,
    format_variant_key,
    parse_variant_key,
    pounds_to_pence,
    price_configuration,
    product_spec_from_sanity,
    variant_keys_for,
)
from elysium.demo import DEMO_STOCK


def _demo_documents() -> dict[str, dict[str, Any]]:
    return {
        doc["slug"]["current"]: doc
        for doc in demo_documents()
        if doc["_type"] == "product" and not doc["_id"].startswith("drafts.")
    }


DOCS = _demo_documents()
SPECS = {slug: product_spec_from_sanity(doc) for slug, doc in DOCS.items()}
AURORA = SPECS["aurora-solitaire"]
AURORA_OK = {"metal": "platinum", "carat": "1.00", "ring_size": "L"}


def _errors(spec: ProductSpec, configuration: object) -> list[FieldError]:
    with pytest.raises(InvalidConfigurationError) as caught:
        price_configuration(spec, configuration)
    return caught.value.errors


def _fields(spec: ProductSpec, configuration: object) -> list[str]:
    return [error.field for error in _errors(spec, configuration)]


# --- the demo catalogue ----------------------------------------------------------------------


def test_demo_prices_are_pounds_and_become_exact_pence() -> None:
    assert AURORA.base_price_pence == 3950_00
    assert AURORA.currency == "GBP"
    metal, carat = AURORA.option("metal"), AURORA.option("carat")
    assert metal is not None
    assert carat is not None
    assert metal.value("platinum") == ValueSpec(
        value="platinum", label="Platinum", price_delta_pence=850_00
    )
    assert carat.value("1.00") is not None
    assert carat.value("1.00").price_delta_pence == 6100_00  # type: ignore[union-attr]
    assert AURORA.engraving == EngravingSpec(available=True, price_pence=95_00, max_length=24)
    assert AURORA.inventory_options == ("carat", "metal")
    assert not AURORA.made_to_order
    assert SPECS["bespoke-engagement-ring"].made_to_order


def test_prices_a_configured_demo_ring() -> None:
    priced = price_configuration(AURORA, {**AURORA_OK, "engraving": "  Forever  "})

    assert priced.unit_price_pence == (3950 + 850 + 6100 + 95) * 100
    assert priced.variant_key == "carat=1.00;metal=platinum"
    assert priced.normalized_configuration == {**AURORA_OK, "engraving": "Forever"}


@pytest.mark.parametrize("engraving", ["", "   ", "\n\t ", None])
def test_blank_or_null_engraving_is_no_engraving(engraving: str | None) -> None:
    priced = price_configuration(AURORA, {**AURORA_OK, "engraving": engraving})

    assert priced.unit_price_pence == (3950 + 850 + 6100) * 100
    assert "engraving" not in priced.normalized_configuration


def test_blank_engraving_is_accepted_where_engraving_is_not_offered() -> None:
    studs = SPECS["vesper-diamond-studs"]
    priced = price_configuration(studs, {"metal": "platinum", "carat": "0.50", "engraving": " "})
    assert priced.unit_price_pence == (1450 + 850) * 100


def test_engraving_is_nfc_normalised_before_counting() -> None:
    decomposed = "Cafe\u0301 " + "x" * 19  # 25 code points, 24 characters once composed
    priced = price_configuration(AURORA, {**AURORA_OK, "engraving": decomposed})
    assert priced.normalized_configuration["engraving"] == "Café " + "x" * 19


def test_product_without_inventory_options_uses_the_default_variant() -> None:
    necklace = SPECS["kashmir-sapphire-necklace"]
    priced = price_configuration(necklace, {})

    assert priced.unit_price_pence == 48500_00
    assert priced.variant_key == "default"
    assert variant_keys_for(necklace) == ["default"]


def test_non_inventory_options_do_not_enter_the_variant_key() -> None:
    pendant = SPECS["nova-pendant"]
    priced = price_configuration(pendant, {"chain_length": "50cm", "metal": "18k-rose-gold"})

    assert priced.unit_price_pence == (1250 + 60) * 100
    assert priced.variant_key == "metal=18k-rose-gold"
    assert list(priced.normalized_configuration) == ["metal", "chain_length"]


def test_variant_keys_match_the_demo_stock_file() -> None:
    stocked: dict[str, set[str]] = defaultdict(set)
    with DEMO_STOCK.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            stocked[row["product_slug"]].add(row["variant_key"])

    for slug, keys in stocked.items():
        assert sorted(variant_keys_for(SPECS[slug])) == sorted(keys), slug
    assert set(SPECS) - set(stocked) == {"bespoke-engagement-ring", "bespoke-signet"}


def test_variant_keys_are_every_combination_in_sorted_option_order() -> None:
    keys = variant_keys_for(AURORA)
    assert len(keys) == 4 * 5
    assert keys[:2] == ["carat=0.50;metal=18k-yellow-gold", "carat=0.50;metal=18k-white-gold"]


def test_spec_survives_a_json_round_trip() -> None:
    for spec in SPECS.values():
        assert ProductSpec.model_validate(spec.model_dump(mode="json")) == spec


# --- required and optional options -----------------------------------------------------------


def _spec(**overrides: Any) -> ProductSpec:
    fields: dict[str, Any] = {
        "slug": "test-ring",
        "base_price_pence": 100_00,
        "options": (
            OptionSpec(
                name="metal",
                label="Metal",
                required=False,
                values=(
                    ValueSpec(value="gold", label="Gold"),
                    ValueSpec(value="platinum", label="Platinum", price_delta_pence=50_00),
                ),
            ),
            OptionSpec(
                name="gift_box",
                label="Gift box",
                required=False,
                values=(ValueSpec(value="velvet", label="Velvet", price_delta_pence=15_00),),
            ),
        ),
        "inventory_options": ("metal",),
        "engraving": EngravingSpec(available=True, price_pence=10_00, max_length=10),
    }
    return ProductSpec(**{**fields, **overrides})


def test_inventory_options_are_required_even_when_flagged_optional() -> None:
    assert _fields(_spec(), {"gift_box": "velvet"}) == ["configuration.metal"]


def test_sanity_inventory_options_are_marked_required() -> None:
    doc = copy.deepcopy(DOCS["nova-pendant"])
    doc["options"][0]["required"] = False
    spec = product_spec_from_sanity(doc)
    assert spec.option("metal").required  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("configuration", "expected_pence"),
    [
        ({"metal": "gold"}, 100_00),
        ({"metal": "gold", "gift_box": None}, 100_00),
        ({"metal": "gold", "gift_box": "velvet"}, 115_00),
        ({"metal": "platinum", "gift_box": "velvet", "engraving": "J & M"}, 175_00),
    ],
)
def test_optional_options_may_be_omitted(
    configuration: dict[str, object], expected_pence: int
) -> None:
    assert price_configuration(_spec(), configuration).unit_price_pence == expected_pence


def test_spec_refuses_configurations_that_would_cost_less_than_nothing() -> None:
    cheap = OptionSpec(
        name="discount",
        label="Discount",
        values=(ValueSpec(value="big", label="Big", price_delta_pence=-200_00),),
    )
    with pytest.raises(ValueError, match="less than nothing"):
        _spec(options=(*_spec().options, cheap))


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("configuration", "expected"),
    [
        ({**AURORA_OK, "colour": "red"}, [("configuration.colour", "Unknown option.")]),
        ({**AURORA_OK, "metal": "silver"}, [("configuration.metal", "Unknown value")]),
        ({"metal": "platinum", "carat": "1.00"}, [("configuration.ring_size", "Required.")]),
        ({**AURORA_OK, "ring_size": None}, [("configuration.ring_size", "Required.")]),
        ({**AURORA_OK, "carat": 1.0}, [("configuration.carat", "Must be a string.")]),
        ({**AURORA_OK, "carat": ["1.00"]}, [("configuration.carat", "Must be a string.")]),
        ({**AURORA_OK, "metal": True}, [("configuration.metal", "Must be a string.")]),
        ({**AURORA_OK, "metal": "Platinum"}, [("configuration.metal", "Unknown value")]),
        ({**AURORA_OK, "engraving": "x" * 25}, [("configuration.engraving", "At most 24")]),
        ({**AURORA_OK, "engraving": 7}, [("configuration.engraving", "Must be a string.")]),
        ({**AURORA_OK, "engraving": "a\x00b"}, [("configuration.engraving", "Contains")]),
        ({**AURORA_OK, "engraving": "line\nbreak"}, [("configuration.engraving", "Contains")]),
        ({**AURORA_OK, "engraving": "evil\u202etxt"}, [("configuration.engraving", "Contains")]),
        ({**AURORA_OK, "engraving": "zero\u200bwidth"}, [("configuration.engraving", "Contains")]),
        ({**AURORA_OK, "engraving": "x" * 1_000_000}, [("configuration.engraving", "At most")]),
        ([], [("configuration", "Must be an object")]),
        ("metal=platinum", [("configuration", "Must be an object")]),
        (None, [("configuration", "Must be an object")]),
        ({str(i): "x" for i in range(MAX_CONFIGURATION_ENTRIES + 1)}, [("configuration", "At")]),
    ],
)
def test_each_validation_rule(configuration: object, expected: list[tuple[str, str]]) -> None:
    errors = _errors(AURORA, configuration)
    assert [(e.field, e.message[: len(m)]) for e, (_, m) in zip(errors, expected, strict=True)] == (
        expected
    )


def test_engraving_where_none_is_offered() -> None:
    studs = SPECS["vesper-diamond-studs"]
    errors = _errors(studs, {"metal": "platinum", "carat": "0.50", "engraving": "Hi"})
    assert errors == [FieldError("configuration.engraving", "This piece cannot be engraved.")]


def test_engraving_of_exactly_the_maximum_length_is_fine() -> None:
    priced = price_configuration(AURORA, {**AURORA_OK, "engraving": "x" * 24})
    assert priced.normalized_configuration["engraving"] == "x" * 24


def test_every_problem_is_reported_at_once() -> None:
    configuration = {"metal": "tin", "carat": 2, "size": "L", "engraving": "x" * 99}
    assert sorted(_fields(AURORA, configuration)) == [
        "configuration.carat",
        "configuration.engraving",
        "configuration.metal",
        "configuration.ring_size",
        "configuration.size",
    ]


def test_hostile_keys_and_values_are_not_echoed_back() -> None:
    huge = "A" * 100_000
    errors = _errors(AURORA, {**AURORA_OK, huge: "x", "metal": huge, "bad key\x00": "x"})
    assert {e.field for e in errors} == {"configuration", "configuration.metal"}
    assert all(len(e.message) < 300 and huge not in e.message for e in errors)


def test_unknown_value_message_lists_the_choices() -> None:
    (error,) = _errors(AURORA, {**AURORA_OK, "carat": "3.00"})
    assert error.message == "Unknown value; choose one of: 0.50, 0.75, 1.00, 1.50, 2.00."


def test_errors_render_as_problem_details_entries() -> None:
    with pytest.raises(InvalidConfigurationError) as caught:
        price_configuration(AURORA, {"metal": "platinum", "carat": "1.00"})
    assert caught.value.as_dicts() == [{"field": "configuration.ring_size", "message": "Required."}]


# --- reading specs from Sanity ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "pence"),
    [
        (3950, 395_000),
        (0, 0),
        (12.5, 1250),
        (0.1, 10),
        (19.99, 1999),
        (Decimal("19.99"), 1999),
        ("4500.00", 450_000),
    ],
)
def test_pounds_to_pence_is_exact(value: object, pence: int) -> None:
    assert pounds_to_pence(value) == pence


@pytest.mark.parametrize(
    "value", [12.345, 0.001, "1e-3", float("inf"), float("nan"), "abc", True, None, [], "1e99"]
)
def test_pounds_to_pence_refuses_what_is_not_a_price(value: object) -> None:
    with pytest.raises(InvalidProductSpecError):
        pounds_to_pence(value)


def _broken(change: str) -> dict[str, Any]:
    doc = copy.deepcopy(DOCS["aurora-solitaire"])
    match change:
        case "sub-penny price":
            doc["basePrice"] = 3950.005
        case "negative price":
            doc["basePrice"] = -1
        case "missing price":
            del doc["basePrice"]
        case "text price":
            doc["basePrice"] = "lots"
        case "foreign currency":
            doc["currency"] = "EUR"
        case "no slug":
            del doc["slug"]
        case "unknown inventory option":
            doc["inventoryOptions"] = ["metal", "colour"]
        case "duplicate option":
            doc["options"].append(doc["options"][0])
        case "option called engraving":
            doc["options"][0]["name"] = "engraving"
        case "separator in a value":
            doc["options"][0]["values"][0]["value"] = "gold;platinum"
        case "duplicate value":
            doc["options"][0]["values"].append(doc["options"][0]["values"][0])
        case "option without values":
            doc["options"][0]["values"] = []
        case "options not a list":
            doc["options"] = {"metal": "gold"}
        case "sub-penny delta":
            doc["options"][0]["values"][0]["priceDelta"] = 0.5001
        case "negative engraving price":
            doc["engraving"]["price"] = -5
    return doc


@pytest.mark.parametrize(
    "change",
    [
        "sub-penny price",
        "negative price",
        "missing price",
        "text price",
        "foreign currency",
        "no slug",
        "unknown inventory option",
        "duplicate option",
        "option called engraving",
        "separator in a value",
        "duplicate value",
        "option without values",
        "options not a list",
        "sub-penny delta",
        "negative engraving price",
    ],
)
def test_unpriceable_sanity_products_are_refused(change: str) -> None:
    with pytest.raises(InvalidProductSpecError):
        product_spec_from_sanity(_broken(change))


# --- variant keys ----------------------------------------------------------------------------


def test_variant_keys_format_and_parse() -> None:
    assert format_variant_key({"metal": "platinum", "carat": "1.00"}) == "carat=1.00;metal=platinum"
    assert format_variant_key({}) == "default"
    assert parse_variant_key("carat=1.00;metal=platinum") == {"carat": "1.00", "metal": "platinum"}
    assert parse_variant_key("default") == {}


@pytest.mark.parametrize(
    "key", ["", "metal", "=platinum", "metal=", "a=1;a=2", "a=1=2", "a=1;", "x=" + "y" * 3000]
)
def test_malformed_variant_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidVariantKeyError):
        parse_variant_key(key)


def test_format_refuses_separators() -> None:
    with pytest.raises(InvalidVariantKeyError):
        format_variant_key({"metal": "a;b"})


def test_canonical_variant_key() -> None:
    assert canonical_variant_key(AURORA, "metal=platinum;carat=1.00") == "carat=1.00;metal=platinum"
    assert canonical_variant_key(SPECS["kashmir-sapphire-necklace"], "default") == "default"
    for wrong in ["metal=platinum", "carat=9.99;metal=platinum", "default", "ring_size=L"]:
        with pytest.raises(InvalidVariantKeyError):
            canonical_variant_key(AURORA, wrong)


# --- properties ------------------------------------------------------------------------------

_NAMES = st.builds(
    str.__add__,
    st.sampled_from(string.ascii_lowercase),
    st.text(string.ascii_lowercase + string.digits + "_", max_size=8),
).filter(lambda name: name != "engraving")
_VALUES = st.builds(
    str.__add__,
    st.sampled_from(string.ascii_letters + string.digits),
    st.text(string.ascii_letters + string.digits + "._-", max_size=6),
)
_ENGRAVABLE = string.ascii_letters + string.digits + " .,&'-"


@st.composite
def _options(draw: st.DrawFn, name: str) -> OptionSpec:
    values = draw(st.lists(_VALUES, min_size=1, max_size=4, unique=True))
    return OptionSpec(
        name=name,
        label=name.title(),
        required=draw(st.booleans()),
        values=tuple(
            ValueSpec(value=v, label=v, price_delta_pence=draw(st.integers(-50_000, 500_000)))
            for v in values
        ),
    )


@st.composite
def _generated_specs(draw: st.DrawFn) -> ProductSpec:
    names = draw(st.lists(_NAMES, max_size=4, unique=True))
    options = tuple(draw(_options(name)) for name in names)
    inventory = draw(st.lists(st.sampled_from(names), unique=True)) if names else []
    worst = 0
    for option in options:
        deltas = [v.price_delta_pence for v in option.values]
        required = option.required or option.name in inventory
        worst += min(deltas) if required else min(0, *deltas)
    engraving = draw(
        st.none()
        | st.builds(
            EngravingSpec,
            available=st.booleans(),
            price_pence=st.integers(0, 50_000),
            max_length=st.integers(1, 40),
        )
    )
    return ProductSpec(
        slug="generated",
        base_price_pence=draw(st.integers(max(0, -worst), max(0, -worst) + 10_000_000)),
        options=options,
        inventory_options=tuple(inventory),
        engraving=engraving,
        made_to_order=draw(st.booleans()),
    )


_SPECS = st.sampled_from(list(SPECS.values())) | _generated_specs()


@st.composite
def _priceable(draw: st.DrawFn) -> tuple[ProductSpec, dict[str, ValueSpec], str | None]:
    """A spec, a valid choice for some of its options, and maybe engraving text."""
    spec = draw(_SPECS)
    chosen = {
        o.name: draw(st.sampled_from(o.values))
        for o in spec.options
        if spec.is_required(o) or draw(st.booleans())
    }
    engraving = None
    if spec.engraving is not None and spec.engraving_offered:
        engraving = draw(st.none() | st.text(_ENGRAVABLE, max_size=spec.engraving.max_length))
    return spec, chosen, engraving


def _configuration(chosen: dict[str, ValueSpec], engraving: str | None) -> dict[str, object]:
    return {name: value.value for name, value in chosen.items()} | {"engraving": engraving}


@given(_priceable())
def test_price_is_the_hand_computed_sum_and_never_negative(
    case: tuple[ProductSpec, dict[str, ValueSpec], str | None],
) -> None:
    spec, chosen, engraving = case
    engraved = bool(engraving and engraving.strip())
    expected = spec.base_price_pence + sum(v.price_delta_pence for v in chosen.values())
    if engraved and spec.engraving is not None:
        expected += spec.engraving.price_pence

    priced = price_configuration(spec, _configuration(chosen, engraving))

    assert priced.unit_price_pence == expected
    assert priced.unit_price_pence >= 0
    assert ("engraving" in priced.normalized_configuration) == engraved


@given(_priceable(), st.randoms(use_true_random=False))
def test_price_is_deterministic_and_independent_of_key_order(
    case: tuple[ProductSpec, dict[str, ValueSpec], str | None], rng: Any
) -> None:
    spec, chosen, engraving = case
    items = list(_configuration(chosen, engraving).items())
    first = price_configuration(spec, dict(items))
    rng.shuffle(items)

    assert price_configuration(spec, dict(items)) == first
    assert price_configuration(spec, dict(items)) == first


@given(_priceable())
def test_variant_key_is_stable_and_names_a_real_variant(
    case: tuple[ProductSpec, dict[str, ValueSpec], str | None],
) -> None:
    spec, chosen, engraving = case
    key = price_configuration(spec, _configuration(chosen, engraving)).variant_key
    inventory_choice = {name: chosen[name].value for name in spec.inventory_options}

    assert key == format_variant_key(inventory_choice)
    assert parse_variant_key(key) == inventory_choice
    assert canonical_variant_key(spec, key) == key
    assert key in variant_keys_for(spec)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)


@settings(max_examples=300)
@given(
    _SPECS,
    _JSON
    | st.dictionaries(
        st.sampled_from(["metal", "carat", "ring_size", "engraving", "chain_length"]) | st.text(),
        _JSON,
    ),
)
def test_any_input_is_priced_or_refused_cleanly(spec: ProductSpec, configuration: object) -> None:
    errors: list[FieldError] = []
    try:
        priced = price_configuration(spec, configuration)
    except InvalidConfigurationError as exc:
        errors = exc.errors
    else:
        assert priced.unit_price_pence >= 0
        return
    assert errors
    assert all(e.field.startswith("configuration") for e in errors)
