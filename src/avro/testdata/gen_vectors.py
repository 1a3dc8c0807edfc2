#!/usr/bin/env python3
"""Generates src/avro/testdata/vectors.json: Avro test vectors whose expected
JSON comes from an independent implementation (Python fastavro), for
src/avro/decoder_test.cc.

Each vector: a schema (JSON text), optional referenced schemas, the Avro
binary payload (hex) written by fastavro.schemaless_writer, and the expected
plain JSON obtained by reading the payload back with
fastavro.schemaless_reader and rendering it with the rules of docs/avro.md:
unions unwrapped, enums as strings, bytes/fixed base64, decimals as exact
strings, dates/times/timestamps as ISO-8601 text, float as its shortest
float32 form, NaN/Inf as null.

Logical types fastavro does not read (duration, timestamp-nanos,
local-timestamp-nanos, uuid on fixed) and years outside 1..9999 are read as
their raw value by fastavro and rendered here from that value with Python's
own calendar (datetime.date, shifted by whole 400-year Gregorian cycles).

Also writes a few seeds to src/avro/fuzz_corpus/.

Usage: python3 gen_vectors.py   (needs `pip install fastavro`)
"""

import base64
import datetime as dt
import decimal
import io
import json
import math
import os
import struct
import sys
import uuid

import fastavro

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(os.path.dirname(HERE), "fuzz_corpus")

UTC = dt.timezone.utc
UNITS_PER_SECOND = {"millis": 10**3, "micros": 10**6, "nanos": 10**9}
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
DAYS_PER_400_YEARS = 146097

# ---------------------------------------------------------------- rendering


def year_text(year):
    """0000..9999 with 4 digits, others signed with at least 6 (ECMAScript)."""
    if 0 <= year <= 9999:
        return "%04d" % year
    return ("-" if year < 0 else "+") + "%06d" % abs(year)


def date_text_from_days(days):
    """Proleptic Gregorian date for days since 1970-01-01, any year."""
    ordinal = days + EPOCH_ORDINAL
    cycles = (ordinal - 1) // DAYS_PER_400_YEARS  # bring into years 1..400
    d = dt.date.fromordinal(ordinal - cycles * DAYS_PER_400_YEARS)
    return "%s-%02d-%02d" % (year_text(d.year + 400 * cycles), d.month, d.day)


def time_text(seconds_of_day, fraction, digits):
    h, rem = divmod(seconds_of_day, 3600)
    m, s = divmod(rem, 60)
    return "%02d:%02d:%02d.%0*d" % (h, m, s, digits, fraction)


def timestamp_text_from_raw(value, unit, utc):
    per_second = UNITS_PER_SECOND[unit]
    seconds, fraction = divmod(value, per_second)
    days, sod = divmod(seconds, 86400)
    digits = len(str(per_second)) - 1
    return date_text_from_days(days) + "T" + time_text(sod, fraction, digits) + ("Z" if utc else "")


def datetime_text(value, unit, utc):
    """From a datetime returned by fastavro."""
    digits = {"millis": 3, "micros": 6}[unit]
    fraction = value.microsecond // 1000 if unit == "millis" else value.microsecond
    return "%s-%02d-%02dT%02d:%02d:%02d.%0*d%s" % (
        year_text(value.year), value.month, value.day, value.hour, value.minute,
        value.second, digits, fraction, "Z" if utc else "")


def float32_shortest(x):
    """The shortest decimal that reads back as the same float32."""
    if x == 0:
        return x
    for precision in range(1, 18):
        candidate = float("%.*g" % (precision, x))
        try:
            if struct.unpack("<f", struct.pack("<f", candidate))[0] == x:
                return candidate
        except OverflowError:  # rounds to FLT_MAX in C, but struct refuses
            if abs(candidate) < 3.4028235677973366e38 and abs(x) == 3.4028234663852886e38:
                return candidate
    raise AssertionError(x)


def b64(data):
    return base64.b64encode(data).decode("ascii")


class Renderer:
    """Walks a fastavro-parsed schema alongside the datum fastavro read."""

    def __init__(self, named):
        self.named = named

    def resolve(self, schema):
        if isinstance(schema, str) and schema in self.named:
            return self.named[schema]
        return schema

    @staticmethod
    def type_of(schema):
        if isinstance(schema, str):
            return schema
        if isinstance(schema, list):
            return "union"
        return schema["type"]

    def matches(self, datum, schema):
        schema = self.resolve(schema)
        t = self.type_of(schema)
        logical = schema.get("logicalType") if isinstance(schema, dict) else None
        if t == "null":
            return datum is None
        if t == "boolean":
            return isinstance(datum, bool)
        if t in ("int", "long"):
            if logical == "date":
                return isinstance(datum, dt.date) and not isinstance(datum, dt.datetime)
            if logical in ("time-millis", "time-micros"):
                return isinstance(datum, dt.time)
            if logical in ("timestamp-millis", "timestamp-micros"):
                return isinstance(datum, dt.datetime) and datum.tzinfo is not None
            if logical in ("local-timestamp-millis", "local-timestamp-micros"):
                return isinstance(datum, dt.datetime) and datum.tzinfo is None
            return isinstance(datum, int) and not isinstance(datum, bool)
        if t in ("float", "double"):
            return isinstance(datum, float)
        if t == "string":
            return isinstance(datum, uuid.UUID) if logical == "uuid" else isinstance(datum, str)
        if t in ("bytes", "fixed"):
            if logical == "decimal":
                return isinstance(datum, decimal.Decimal)
            return isinstance(datum, bytes) and (t == "bytes" or len(datum) == schema["size"])
        if t == "enum":
            return isinstance(datum, str) and datum in schema["symbols"]
        if t == "record":
            return isinstance(datum, tuple) and datum[0] == schema["name"]
        if t == "map":
            return isinstance(datum, dict)
        if t == "array":
            return isinstance(datum, list)
        raise AssertionError(t)

    def render(self, datum, schema):
        schema = self.resolve(schema)
        t = self.type_of(schema)
        logical = schema.get("logicalType") if isinstance(schema, dict) else None
        if t == "union":
            for branch in schema:
                if self.matches(datum, branch):
                    if isinstance(datum, tuple):  # record name from return_record_name
                        datum = datum[1]
                    return self.render(datum, branch)
            raise AssertionError("no union branch for %r" % (datum,))
        if t in ("null", "boolean", "string", "enum"):
            return str(datum) if isinstance(datum, uuid.UUID) else datum
        if t in ("int", "long"):
            if isinstance(datum, int) and logical is not None:
                return self.render_raw_logical(datum, logical)
            if logical == "date":
                return "%s-%02d-%02d" % (year_text(datum.year), datum.month, datum.day)
            if logical in ("time-millis", "time-micros"):
                digits = 3 if logical == "time-millis" else 6
                fraction = datum.microsecond // 1000 if digits == 3 else datum.microsecond
                return time_text(datum.hour * 3600 + datum.minute * 60 + datum.second, fraction, digits)
            if logical in ("timestamp-millis", "timestamp-micros"):
                return datetime_text(datum, logical.split("-")[1], True)
            if logical in ("local-timestamp-millis", "local-timestamp-micros"):
                return datetime_text(datum, logical.split("-")[2], False)
            return datum
        if t in ("float", "double"):
            if math.isnan(datum) or math.isinf(datum):
                return None
            return float32_shortest(datum) if t == "float" else datum
        if t in ("bytes", "fixed"):
            if logical == "decimal":
                return format(datum, "f")
            if t == "fixed" and logical == "duration" and len(datum) == 12:
                months, days, millis = struct.unpack("<III", datum)
                return {"months": months, "days": days, "milliseconds": millis}
            if t == "fixed" and logical == "uuid" and len(datum) == 16:
                return str(uuid.UUID(bytes=datum))
            return b64(datum)
        if t == "record":
            return {f["name"]: self.render(datum[f["name"]], f["type"]) for f in schema["fields"]}
        if t == "map":
            return {k: self.render(v, schema["values"]) for k, v in datum.items()}
        if t == "array":
            return [self.render(v, schema["items"]) for v in datum]
        raise AssertionError(t)

    @staticmethod
    def render_raw_logical(value, logical):
        """Logical values fastavro returned raw (it does not know them, or the
        raw writer schema was used for years outside Python's range)."""
        if logical == "date":
            return date_text_from_days(value)
        parts = logical.split("-")
        if parts[0] in ("timestamp", "local") and parts[-1] in UNITS_PER_SECOND:
            return timestamp_text_from_raw(value, parts[-1], parts[0] == "timestamp")
        return value


# ---------------------------------------------------------------- vectors

VECTORS = []


def strip_logical(schema):
    """The schema without logicalType, to write raw values fastavro would
    otherwise reject or convert."""
    if isinstance(schema, list):
        return [strip_logical(s) for s in schema]
    if isinstance(schema, dict):
        return {k: strip_logical(v) for k, v in schema.items() if k != "logicalType"}
    return schema


def add(name, schema, datum, references=(), raw=False, payload=None):
    """raw: write with logical types stripped (datum holds raw values), read
    back the same way, and render the logical types from the raw values."""
    named = {}
    for ref in references:
        fastavro.parse_schema(ref, named_schemas=named)
    parsed = fastavro.parse_schema(schema, named_schemas=named)
    io_schema, io_named = parsed, named
    if raw:
        io_named = {}
        for ref in references:
            fastavro.parse_schema(strip_logical(ref), named_schemas=io_named)
        io_schema = fastavro.parse_schema(strip_logical(schema), named_schemas=io_named)
    if payload is None:
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, io_schema, datum)
        payload = buf.getvalue()
    back = fastavro.schemaless_reader(io.BytesIO(payload), io_schema, None, return_record_name=True)
    expected = Renderer(named).render(back, parsed)
    VECTORS.append({
        "name": name,
        "schema": json.dumps(schema),
        "references": [json.dumps(r) for r in references],
        "payload_hex": payload.hex(),
        "expected": expected,
    })


def build():
    # Primitives at the top level.
    for t, values in [
        ("null", [None]),
        ("boolean", [True, False]),
        ("int", [0, 1, -1, 63, -64, 64, 2**31 - 1, -2**31]),
        ("long", [0, -1, 2**63 - 1, -2**63, 1764350000000, -1764350000000]),
        ("float", [0.0, 0.1, -2.5, 3.4028234663852886e38, 1e-45, 16777217.0, float("nan"), float("inf")]),
        ("double", [0.0, -0.0, 0.1, 1e300, -5e-324, 123456789.125, 1e21, float("-inf"), float("nan")]),
        ("bytes", [b"", b"\x00", b"\xff\xfe", b"abc", bytes(range(256))]),
        ("string", ["", "a", "h\u00e9llo w\u00f6rld", "quote\" back\\ slash/ \b\f\n\r\t \x01\x1f\x7f",
                    "\u2028\u2029 \U0001F600 \u4e2d\u6587", "x" * 300]),
    ]:
        for i, v in enumerate(values):
            add("%s_%d" % (t, i), t, v)

    add("enum", {"type": "enum", "name": "Suit", "symbols": ["SPADES", "HEARTS", "DIAMONDS", "CLUBS"]}, "DIAMONDS")
    add("fixed", {"type": "fixed", "name": "Md5", "size": 16}, bytes(range(16)))
    add("fixed_empty", {"type": "fixed", "name": "Nothing", "size": 0}, b"")

    add("array_empty", {"type": "array", "items": "long"}, [])
    add("array_longs", {"type": "array", "items": "long"}, [1, -2, 300, 2**40, -2**62])
    add("array_nested", {"type": "array", "items": {"type": "array", "items": "string"}}, [["a"], [], ["b", "c"]])
    add("map_empty", {"type": "map", "values": "int"}, {})
    add("map_ints", {"type": "map", "values": "int"}, {"one": 1, "two": 2, "\u00fcml\u00e4ut": 3, "q\"k": 4})
    add("map_of_arrays", {"type": "map", "values": {"type": "array", "items": ["null", "double"]}},
        {"a": [1.5, None], "b": []})

    union = ["null", "string", "long", "double", "boolean", "bytes",
             {"type": "record", "name": "Point", "fields": [{"name": "x", "type": "int"}, {"name": "y", "type": "int"}]},
             {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]},
             {"type": "array", "items": "int"},
             {"type": "map", "values": "string"}]
    add("array_of_unions", {"type": "array", "items": union},
        [None, "s", 42, 2.5, True, b"\x01\x02", {"x": 1, "y": -1}, "GREEN", [1, 2], {"k": "v"}, None])
    add("union_top_null", ["null", "string"], None)
    add("union_top_string", ["null", "string"], "hello")
    two_records = [{"type": "record", "name": "Cat", "fields": [{"name": "name", "type": "string"}]},
                   {"type": "record", "name": "Dog", "fields": [{"name": "name", "type": "string"},
                                                                {"name": "good", "type": "boolean"}]}]
    add("union_two_records", {"type": "array", "items": two_records},
        [("Dog", {"name": "Rex", "good": True}), ("Cat", {"name": "Tom"})])

    # Records: every primitive, nesting, namespaces and references by name.
    add("record_all_primitives", {
        "type": "record", "name": "All", "namespace": "test.types", "fields": [
            {"name": "n", "type": "null"}, {"name": "b", "type": "boolean"}, {"name": "i", "type": "int"},
            {"name": "l", "type": "long"}, {"name": "f", "type": "float"}, {"name": "d", "type": "double"},
            {"name": "by", "type": "bytes"}, {"name": "s", "type": "string"},
            {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B"]}},
            {"name": "fx", "type": {"type": "fixed", "name": "F4", "size": 4}},
            {"name": "e2", "type": "E"}, {"name": "fx2", "type": "test.types.F4"},
            {"name": "empty", "type": {"type": "record", "name": "Empty", "fields": []}},
        ]}, {"n": None, "b": True, "i": -7, "l": 9007199254740993, "f": 1.1, "d": -1.1, "by": b"\x00\x01",
             "s": "str", "e": "B", "fx": b"abcd", "e2": "A", "fx2": b"\xff\xff\xff\xff", "empty": {}})
    add("record_nested_namespaces", {
        "type": "record", "name": "Outer", "namespace": "a.b", "fields": [
            {"name": "inner", "type": {"type": "record", "name": "Inner", "fields": [
                {"name": "deep", "type": {"type": "record", "name": "x.y.Deep", "fields": [
                    {"name": "v", "type": "string"},
                    {"name": "other", "type": ["null", {"type": "record", "name": "Other", "namespace": "",
                                                        "fields": [{"name": "z", "type": "int"}]}]}]}}]}},
            {"name": "again", "type": "Inner"},
            {"name": "deep_again", "type": "x.y.Deep"},
        ]}, {"inner": {"deep": {"v": "1", "other": ("Other", {"z": 5})}},
             "again": {"deep": {"v": "2", "other": None}},
             "deep_again": {"v": "3", "other": None}})

    # Recursive types.
    linked = {"type": "record", "name": "Node", "fields": [
        {"name": "value", "type": "int"}, {"name": "next", "type": ["null", "Node"]}]}
    add("recursive_list", linked, {"value": 1, "next": {"value": 2, "next": {"value": 3, "next": None}}})
    tree = {"type": "record", "name": "Tree", "fields": [
        {"name": "label", "type": "string"}, {"name": "children", "type": {"type": "array", "items": "Tree"}},
        {"name": "attrs", "type": {"type": "map", "values": "Tree"}}]}
    leaf = {"label": "leaf", "children": [], "attrs": {}}
    add("recursive_tree", tree, {"label": "root", "children": [leaf, {"label": "mid", "children": [leaf],
                                                                       "attrs": {"k": leaf}}], "attrs": {}})

    # Schema references (Confluent): named types defined in other schemas.
    money = {"type": "record", "name": "Money", "namespace": "com.acme.common", "fields": [
        {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}},
        {"name": "currency", "type": "string"}]}
    address = {"type": "record", "name": "Address", "namespace": "com.acme.common", "fields": [
        {"name": "city", "type": "string"}, {"name": "price", "type": "Money"}]}
    order = {"type": "record", "name": "Order", "namespace": "com.acme.orders", "fields": [
        {"name": "total", "type": "com.acme.common.Money"},
        {"name": "ship_to", "type": ["null", "com.acme.common.Address"]}]}
    add("schema_references", order,
        {"total": {"amount": decimal.Decimal("12.34"), "currency": "EUR"},
         "ship_to": ("com.acme.common.Address",
                     {"city": "Zürich", "price": {"amount": decimal.Decimal("-0.05"), "currency": "CHF"}})},
        references=[money, address])

    # Logical types.
    def logical(name, base, lt, values, raw=False, **extra):
        schema = dict({"type": base, "logicalType": lt}, **extra)
        for i, v in enumerate(values):
            add("%s_%d" % (name, i), schema, v, raw=raw)

    D = decimal.Decimal
    logical("decimal_bytes", "bytes", "decimal", [D("0.00"), D("12.34"), D("-12.34"), D("0.05"), D("-0.01"),
                                                  D("99999999.99"), D("-99999999.99"), D("1.28"), D("-1.28")],
            precision=10, scale=2)
    logical("decimal_scale0", "bytes", "decimal", [D("0"), D("127"), D("-128"), D("123456789012345678")],
            precision=20)
    logical("decimal_large", "bytes", "decimal",
            [D("12345678901234567890123456789012345678901234567890.1234567890"),
             D("-98765432109876543210987654321098765432109876543210.0000000001"),
             D("0.0000000001")],
            precision=60, scale=10)
    logical("decimal_wide_scale", "bytes", "decimal", [D("1E-30"), D("-3.000000000000000000000000000000")],
            precision=40, scale=30)
    add("decimal_fixed", {"type": "fixed", "name": "Dec8", "size": 8, "logicalType": "decimal", "precision": 18,
                          "scale": 4}, D("-12345678901234.5678"))
    add("decimal_fixed_big", {"type": "record", "name": "R", "fields": [
        {"name": "a", "type": {"type": "fixed", "name": "Dec20", "size": 20, "logicalType": "decimal",
                               "precision": 47, "scale": 3}},
        {"name": "b", "type": "Dec20"}]},
        {"a": D("12345678901234567890123456789012345678901234.567"), "b": D("-0.001")})
    logical("uuid", "string", "uuid", [uuid.UUID("123e4567-e89b-12d3-a456-426614174000"),
                                       uuid.UUID("00000000-0000-0000-0000-000000000000")])
    logical("date", "int", "date", [dt.date(1970, 1, 1), dt.date(2000, 2, 29), dt.date(1969, 12, 31),
                                    dt.date(1900, 3, 1), dt.date(1, 1, 1), dt.date(9999, 12, 31),
                                    dt.date(2026, 11, 28)])
    logical("date_extended", "int", "date", [-719529, -719528 - 366, 2932897, 2**31 - 1, -2**31], raw=True)
    logical("time_millis", "int", "time-millis", [dt.time(0, 0), dt.time(23, 59, 59, 999000),
                                                  dt.time(12, 34, 56, 789000)])
    logical("time_micros", "long", "time-micros", [dt.time(0, 0), dt.time(23, 59, 59, 999999),
                                                   dt.time(1, 2, 3, 4)])
    ts = [dt.datetime(2026, 11, 28, 20, 35, 10, 123000, tzinfo=UTC), dt.datetime(1970, 1, 1, tzinfo=UTC),
          dt.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC), dt.datetime(1900, 1, 1, 0, 0, 0, 1000, tzinfo=UTC),
          dt.datetime(1, 1, 1, tzinfo=UTC), dt.datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
          dt.datetime(2000, 2, 29, 12, 0, tzinfo=UTC)]
    logical("timestamp_millis", "long", "timestamp-millis", ts)
    logical("timestamp_micros", "long", "timestamp-micros",
            ts + [dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
                  dt.datetime(2026, 11, 28, 20, 35, 10, 123456, tzinfo=UTC)])
    naive = [t.replace(tzinfo=None) for t in ts]
    logical("local_timestamp_millis", "long", "local-timestamp-millis", naive)
    logical("local_timestamp_micros", "long", "local-timestamp-micros", naive)
    extreme = [2**63 - 1, -2**63, -62135596800001, 253402300800000, -1]
    logical("timestamp_millis_extended", "long", "timestamp-millis", extreme, raw=True)
    logical("timestamp_micros_extended", "long", "timestamp-micros", extreme, raw=True)
    logical("local_timestamp_millis_extended", "long", "local-timestamp-millis", extreme, raw=True)
    logical("timestamp_nanos", "long", "timestamp-nanos", [0, 1764362110123456789, -1, 2**63 - 1, -2**63],
            raw=True)
    logical("local_timestamp_nanos", "long", "local-timestamp-nanos", [0, 1764362110123456789, -1], raw=True)
    add("duration", {"type": "fixed", "name": "Dur", "size": 12, "logicalType": "duration"},
        struct.pack("<III", 14, 3, 3600000))
    add("duration_max", {"type": "fixed", "name": "Dur", "size": 12, "logicalType": "duration"},
        b"\xff" * 12)
    add("uuid_fixed", {"type": "fixed", "name": "U", "size": 16, "logicalType": "uuid"},
        uuid.UUID("123e4567-e89b-12d3-a456-426614174000").bytes)
    # Logical types that do not fit their base type are ignored.
    add("invalid_logical_ignored", {"type": "record", "name": "Ignored", "fields": [
        {"name": "a", "type": {"type": "string", "logicalType": "date"}},
        {"name": "c", "type": {"type": "long", "logicalType": "no-such-type"}},
        {"name": "d", "type": {"type": "fixed", "name": "D5", "size": 5, "logicalType": "duration"}}]},
        {"a": "x", "c": 5, "d": b"12345"})
    add("logical_in_union_and_array", {"type": "array", "items": [
        "null", {"type": "long", "logicalType": "timestamp-millis"},
        {"type": "bytes", "logicalType": "decimal", "precision": 5, "scale": 1},
        {"type": "string", "logicalType": "uuid"}]},
        [None, dt.datetime(2024, 1, 2, 3, 4, 5, 6000, tzinfo=UTC), D("-1234.5"),
         uuid.UUID("123e4567-e89b-12d3-a456-426614174000")])

    # Hand-built payload: an array in two blocks, one with a negative count
    # (followed by its byte size), which fastavro accepts too.
    def zz(n):
        v = (n << 1) ^ (n >> 63)
        out = bytearray()
        while True:
            b = v & 0x7F
            v >>= 7
            if v:
                out.append(b | 0x80)
            else:
                out.append(b)
                return bytes(out)
    items = zz(7) + zz(-300)
    add("array_negative_block", {"type": "array", "items": "long"}, None,
        payload=zz(-2) + zz(len(items)) + items + zz(1) + zz(1) + zz(0))
    add("map_negative_block", {"type": "map", "values": "boolean"}, None,
        payload=zz(-1) + zz(3) + zz(1) + b"k" + b"\x01" + zz(0))
    # Non-minimal varint encodings are still valid.
    add("long_padded_varint", "long", None, payload=b"\x82\x80\x80\x00")

    add("all_logicals", ALL_LOGICALS_SCHEMA, {
        "dec": D("-3.14159"), "decf": D("1234567.89"), "id": uuid.UUID("123e4567-e89b-12d3-a456-426614174000"),
        "day": dt.date(1999, 12, 31), "tm": dt.time(8, 30, 0, 250000), "tu": dt.time(23, 0, 0, 1),
        "tsm": ts[0], "tsu": ts[2], "ltm": naive[3], "ltu": naive[5],
        "dur": struct.pack("<III", 1, 2, 3), "uf": bytes(range(16))})
    add("payment", PAYMENT_SCHEMA, PAYMENT_DATUM)
    add("payment_minimal", PAYMENT_SCHEMA, dict(PAYMENT_DATUM, property_id=None, reservation_id=None, guest=None,
                                                updated_at=None, metadata={}))


ALL_LOGICALS_SCHEMA = {
    "type": "record", "name": "Logicals", "fields": [
        {"name": "dec", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 5}},
        {"name": "decf", "type": {"type": "fixed", "name": "D6", "size": 6, "logicalType": "decimal",
                                  "precision": 14, "scale": 2}},
        {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "tm", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "tu", "type": {"type": "long", "logicalType": "time-micros"}},
        {"name": "tsm", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "tsu", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "ltm", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
        {"name": "ltu", "type": {"type": "long", "logicalType": "local-timestamp-micros"}},
        {"name": "dur", "type": {"type": "fixed", "name": "Dur12", "size": 12, "logicalType": "duration"}},
        {"name": "uf", "type": {"type": "fixed", "name": "U16", "size": 16, "logicalType": "uuid"}},
    ]}

PAYMENT_SCHEMA = {
    "type": "record", "name": "Payment", "namespace": "com.acme.payments", "fields": [
        {"name": "payment_id", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "organization_id", "type": "long"},
        {"name": "property_id", "type": ["null", "string"], "default": None},
        {"name": "reservation_id", "type": ["null", "string"], "default": None},
        {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}},
        {"name": "currency", "type": {"type": "enum", "name": "Currency", "symbols": ["EUR", "USD", "GBP", "CHF"]}},
        {"name": "status", "type": {"type": "enum", "name": "Status",
                                    "symbols": ["PENDING", "AUTHORIZED", "CAPTURED", "REFUNDED", "FAILED"]}},
        {"name": "method", "type": {"type": "record", "name": "PaymentMethod", "fields": [
            {"name": "kind", "type": "string"},
            {"name": "card_brand", "type": ["null", "string"]},
            {"name": "last4", "type": ["null", "string"]}]}},
        {"name": "guest", "type": ["null", {"type": "record", "name": "GuestRef", "fields": [
            {"name": "guest_id", "type": "long"},
            {"name": "name", "type": ["null", "string"]},
            {"name": "email", "type": ["null", "string"]}]}]},
        {"name": "created_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "updated_at", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}]},
        {"name": "metadata", "type": {"type": "map", "values": "string"}},
    ]}

PAYMENT_DATUM = {
    "payment_id": uuid.UUID("9b2f6c1e-4d7a-4f0e-8c3b-2a5d9e7f1b44"),
    "organization_id": 4711,
    "property_id": "prop-0042",
    "reservation_id": "RES-2026-000123456",
    "amount": decimal.Decimal("1249.90"),
    "currency": "EUR",
    "status": "CAPTURED",
    "method": {"kind": "card", "card_brand": "VISA", "last4": "4242"},
    "guest": ("com.acme.payments.GuestRef", {"guest_id": 90210, "name": "Ana Müller", "email": "ana@example.com"}),
    "created_at": dt.datetime(2026, 11, 28, 20, 35, 10, 123000, tzinfo=UTC),
    "updated_at": dt.datetime(2026, 11, 28, 20, 35, 11, 456789, tzinfo=UTC),
    "metadata": {"channel": "web", "terminal": "T-17"},
}


def write_corpus():
    """Seeds for avro_decode_fuzz: byte 0 picks a fixed schema (see
    kFixedSchemas in avro_decode_fuzz.cc) or 0xFF = schema in the input:
    2-byte big-endian schema length, schema text, payload."""
    os.makedirs(CORPUS, exist_ok=True)
    for f in os.listdir(CORPUS):
        os.remove(os.path.join(CORPUS, f))
    by_name = {v["name"]: v for v in VECTORS}
    fixed = ["payment", "recursive_tree", "array_of_unions", "record_all_primitives", "all_logicals"]
    for index, name in enumerate(fixed):
        with open(os.path.join(CORPUS, "fixed_%s" % name), "wb") as f:
            f.write(bytes([index]) + bytes.fromhex(by_name[name]["payload_hex"]))
    for name in ["schema_references", "decimal_fixed_big", "logical_in_union_and_array", "map_of_arrays",
                 "duration", "record_nested_namespaces", "array_negative_block", "date_extended_0"]:
        v = by_name[name]
        if v["references"]:
            continue  # the fuzz target parses one schema text
        schema = v["schema"].encode()
        with open(os.path.join(CORPUS, "inline_%s" % name), "wb") as f:
            f.write(b"\xff" + len(schema).to_bytes(2, "big") + schema + bytes.fromhex(v["payload_hex"]))


def main():
    build()
    names = [v["name"] for v in VECTORS]
    assert len(names) == len(set(names)), "duplicate vector names"
    out = {
        "generator": "src/avro/testdata/gen_vectors.py, fastavro %s" % fastavro.__version__,
        "vectors": VECTORS,
    }
    with open(os.path.join(HERE, "vectors.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False, allow_nan=False)
        f.write("\n")
    write_corpus()
    print("wrote %d vectors" % len(VECTORS), file=sys.stderr)


if __name__ == "__main__":
    main()
