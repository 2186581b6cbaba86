"""One reader for every record file a user gives: JSONL, JSON, CSV/TSV, YAML and Parquet.

Prompt sets, probes, templates, attack logs, replay answers and prompt files all come through
here, so they share one set of rules and one set of error messages (`path:line: field 'x': ...`,
exit 2, never a traceback):

* UTF-8 only; a byte-order mark is accepted and dropped; invalid UTF-8 names the line and byte;
* a JSON array (or `{"data": [...]}`, or a caller's list key such as `probes:`) is read as its
  items, wherever a file may be JSON; JSONL stored under `.json` is read as JSONL;
* nesting deeper than `MAX_DEPTH` is refused (a RecursionError is never shown);
* YAML keys given twice in one mapping are an error naming both lines; YAML aliases that expand
  the document by more than `MAX_YAML_ALIAS_EXPANSION` items (an "alias bomb") are refused;
* NUL bytes, oversized CSV fields and malformed rows are located errors.

JSONL and CSV are streamed (`iter_records`), so a log larger than memory can be read.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from distillscope import jsonsafe, textsafe
from distillscope.errors import UserError, clip_echoes

MAX_DEPTH = 100
# Items that YAML aliases may add beyond those written out (a shared settings block is a few dozen).
MAX_YAML_ALIAS_EXPANSION = 100_000
CSV_FIELD_LIMIT = 50_000_000
BOM = "\ufeff"
JSONL_SUFFIXES = (".jsonl", ".ndjson")
CSV_SUFFIXES = (".csv", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")
YAML_SUFFIXES = (".yaml", ".yml")
KNOWN_SUFFIXES = (*JSONL_SUFFIXES, ".json", *CSV_SUFFIXES, *PARQUET_SUFFIXES, *YAML_SUFFIXES)


@dataclass(frozen=True)
class Record:
    """One record and where it came from: `line` for text formats, else its position."""

    path: Path
    line: int | None
    index: int
    data: dict[str, Any]
    # CSV: columns this row has no cell for (fewer values than the header); `data` holds "" for
    # them, as before, and a reader that needs the cell can refuse the row instead
    missing: frozenset[str] = frozenset()

    @property
    def where(self) -> str:
        if self.line is not None:
            return f"{self.path}:{self.line}"
        return f"{self.path} item {self.index}"

    def error(self, message: str, field: str | None = None) -> UserError:
        return UserError(f"{self.where}: {f'field {field!r}: ' if field else ''}{message}")


# -- whole files --------------------------------------------------------------------------------


def check_file(path: Path, what: str = "file") -> None:
    try:  # a name too long for the file system is an OSError, not "no such file"
        exists, is_dir, is_file = path.exists(), path.is_dir(), path.is_file()
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not exists:
        raise UserError(f"{path}: {what} not found")
    if is_dir:
        article = "an" if what[:1].lower() in "aeiou" else "a"
        raise UserError(f"{path}: is a directory, expected {article} {what}")
    if not is_file:
        raise UserError(f"{path}: not a regular file")


def read_text(path: Path, what: str = "file") -> str:
    """A whole text file: UTF-8, BOM dropped; a located error when it is not UTF-8."""
    check_file(path, what)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise UserError.at(path, f"not UTF-8 text (byte {exc.start})", line=line) from None
    return text.removeprefix(BOM)


def check_depth(value: Any, path: Path | str, line: int | None = None, limit: int = MAX_DEPTH) -> None:
    """Refuse structures nested deeper than `limit` (iteratively: no recursion to overflow)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            raise UserError.at(path, f"nested more than {limit} levels deep", line=line)
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def json_problem(exc: json.JSONDecodeError) -> str:
    """What is wrong and where in the line: the decoder's message alone can end mid-sentence
    ("Invalid control character at")."""
    return f"invalid JSON ({exc.msg.removesuffix(' at')} at column {exc.colno})"


def duplicate_key_error(path: Path | str, exc: jsonsafe.DuplicateKey, line: int | None = None) -> UserError:
    """A key given twice in one JSON object, at its file, line and key: in a replay, prompt or
    answer file it is two answers (or prompts) where one is read, and which was meant cannot be known."""
    at = line if line is not None else exc.line
    message = "given twice in one object (only the last would be read, without a word): keep one value"
    return UserError.at(path, message, line=at, field=exc.key)


def parse_json(text: str, path: Path | str, line: int | None = None) -> Any:
    """JSON text -> value, with errors located at `path` (and the line inside the text)."""
    try:
        value = jsonsafe.loads(text, unique=True)
    except json.JSONDecodeError as exc:
        at = line if line is not None else exc.lineno
        raise UserError.at(path, json_problem(exc), line=at) from None
    except jsonsafe.NumberOutOfRange as exc:
        raise UserError.at(path, str(exc), line=line if line is not None else exc.line) from None
    except jsonsafe.DuplicateKey as exc:
        raise duplicate_key_error(path, exc, line) from None
    except RecursionError:
        raise UserError.at(path, f"nested more than {MAX_DEPTH} levels deep", line=line) from None
    check_depth(value, path, line)
    return safe_strings(value, text)


def safe_strings(value: Any, source: str) -> Any:
    """`value` (parsed from `source`) with lone surrogates in its strings replaced (see textsafe)."""
    return textsafe.repair_strings(value) if textsafe.may_hold_surrogates(source) else value


def load_json(path: Path, what: str = "file") -> Any:
    """A whole JSON file (results.json, config.json, an EasyJailbreak template file)."""
    text = read_text(path, what)
    if not text.strip():
        raise UserError(f"{path}: {what} is empty")
    return parse_json(text, path)


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML that refuses a key given twice in one mapping (PyYAML keeps the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: SafeConstructor reports it below
                continue
            line = key_node.start_mark.line + 1
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (lines {first} and {line})", key_node.start_mark
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


def parse_yaml(text: str, path: Path | str) -> Any:
    """YAML text -> value (safe types only, unique keys, bounded depth, bounded alias expansion).

    The node graph is composed first and its size *as expanded* counted (each node once, aliases
    by reference) before any Python value is built: a few hundred bytes of nested `&a [*a, *a]`
    expand to billions of items, which every later walk over the value would pay for."""
    loader = _UniqueKeyLoader(text.removeprefix(BOM))
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "&" in text:  # no anchor, no alias: nothing to expand
            _check_expansion(node, path)
        value = loader.construct_document(node)
    except yaml.reader.ReaderError as exc:  # no mark: its position counts bytes, so find the character
        raise _reader_error(path, text.removeprefix(BOM), exc) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise UserError.at(path, f"malformed YAML: {problem}", line=line) from None
    except RecursionError:
        raise UserError.at(path, f"nested more than {MAX_DEPTH} levels deep") from None
    finally:
        loader.dispose()
    check_depth(value, path)
    _check_yaml_numbers(value, node, path)
    return safe_strings(value, text)


def _reader_error(path: Path | str, text: str, exc: yaml.reader.ReaderError) -> UserError:
    """A character YAML does not allow (NUL, another control character), named and at its line:
    PyYAML's ReaderError has no line, and was shown as `malformed YAML: malformed YAML`."""
    code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
    at = text.find(chr(code))
    line = text.count("\n", 0, at) + 1 if at >= 0 else None
    what = "a NUL byte" if code == 0 else f"control character U+{code:04X}"
    return UserError.at(
        path,
        f"malformed YAML: {what}, which YAML does not allow (remove it; in a double-quoted string "
        f"write it as an escape, \\x{code:02x})",
        line=line,
    )


def _construct_int(loader: Any, node: yaml.ScalarNode) -> Any:
    """An integer, or a `BadNumber` for one too long for `int()` (over 4,300 digits: a ValueError
    traceback) that `_check_yaml_numbers` then names at its line and field."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)
    except ValueError:
        return jsonsafe.BadNumber(str(node.value))


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def _check_yaml_numbers(value: Any, root: yaml.Node, path: Path | str) -> None:
    """Refuse a number that is not finite or beyond 64 bits (`.nan`, `.inf`, 10**30), at its line
    and field (`study.yaml:7: field 'ice.ratio': ...`, a list item as `foils[0]`): the value is
    found in the parsed data and its line in the node graph it was built from."""
    found = jsonsafe.locate_bad_number(value)
    if found is None:
        return
    parts, shown = found
    node: yaml.Node | None = root
    line: int | None = root.start_mark.line + 1
    field = ""
    for depth, part in enumerate(parts):
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            # merge keys (`<<: *base`) were flattened into the mapping when it was built: the last
            # pair of a key is the one the value came from
            pairs = [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and str(k.value) == part]
            if pairs:
                key, child = pairs[-1]
                line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:  # a key written otherwise than it reads (`yes:`): name the rest as read
            field += field_suffix(parts[depth:])
            break
        field += field_suffix([part])
        node = child
    number = jsonsafe.NumberOutOfRange("", shown)
    raise UserError.at(path, str(number), line=line, field=field.removeprefix(".") or None)


def bool_problem(expected: str) -> str:
    """The message for a YAML boolean given where a number is wanted (`jsonsafe.bool_for_number`)."""
    return f"expected {expected}, got a boolean (YAML reads true/false, yes/no, on/off as booleans)"


def field_suffix(parts: Sequence[str | int]) -> str:
    """A path's parts as they extend a field name: `.key` for a mapping's key, `[i]` for a list's item."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def _check_expansion(root: yaml.Node, path: Path | str) -> None:
    """Refuse a YAML document whose aliases expand it by more than `MAX_YAML_ALIAS_EXPANSION`
    nodes, or that refers to itself. Iterative, each distinct node visited once: linear in the file."""
    size: dict[int, int] = {}  # id(node) -> nodes in its expansion, itself included
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        children = _yaml_children(node)
        if children_done:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(child)] for child in children)
            continue
        if key in size:
            continue
        if key in on_path:
            line = node.start_mark.line + 1
            raise UserError.at(path, "malformed YAML: an alias refers to a node that contains it", line=line)
        on_path.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in on_path:
                line = child.start_mark.line + 1
                raise UserError.at(
                    path, "malformed YAML: an alias refers to a node that contains it", line=line
                )
            if id(child) not in size:
                stack.append((child, False))
    expanded, distinct = size[id(root)], len(size)
    if expanded - distinct > MAX_YAML_ALIAS_EXPANSION:
        raise UserError.at(
            path,
            f"YAML aliases expand to more than {MAX_YAML_ALIAS_EXPANSION:,} extra items "
            f"({expanded:,} from {distinct:,} written): write the values out, or use fewer aliases",
        )


def _yaml_children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def load_yaml(path: Path, what: str = "file") -> Any:
    return parse_yaml(read_text(path, what), path)


def yaml_error(path: Path | str, message: str, *, field: str, value: object = None) -> UserError:
    """An error about `field` of a YAML file, located at its line (`path:line: field 'x': ...`):
    the value is checked after parsing, where the line is no longer known, so it is looked up.
    `value`: the field's value (or values), cut wherever the message echoes it (`clip_echoes`)."""
    message = clip_echoes(message, value)
    return UserError.at(path, message, line=yaml_line(path, field), field=field)


_INDEX = re.compile(r"\[(\d+)\]\.?")


def yaml_line(path: Path | str, field: str) -> int | None:
    """The line of `field` (`ice.budget`, `foils[0]`, `models.qwen2.5.spec`) in a YAML file, or of
    the deepest part of it the file holds (a missing `rse.datasets`: the line of `rse`); None when
    the file holds none of it or cannot be read. A key may contain dots: the longest key that
    starts the rest of the field is taken."""
    try:
        node: yaml.Node | None = yaml.compose(read_text(Path(path)), Loader=_UniqueKeyLoader)
    except (UserError, yaml.YAMLError, RecursionError):
        return None
    line, rest = None, field
    while rest and node is not None:
        if isinstance(node, yaml.MappingNode):
            keys = [
                (str(k.value), k, v)
                for k, v in node.value
                if isinstance(k, yaml.ScalarNode)
                and (rest == str(k.value) or rest.startswith((f"{k.value}.", f"{k.value}[")))
            ]
            if not keys:
                break
            name, key, node = max(keys, key=lambda item: len(item[0]))
            line, rest = key.start_mark.line + 1, rest[len(name) :].removeprefix(".")
        elif isinstance(node, yaml.SequenceNode) and (match := _INDEX.match(rest)):
            if int(match[1]) >= len(node.value):
                break
            node = node.value[int(match[1])]
            line, rest = node.start_mark.line + 1, rest[match.end() :]
        else:
            break
    return line


# -- records ------------------------------------------------------------------------------------


def iter_records(
    path: Path,
    *,
    what: str = "file",
    list_keys: tuple[str, ...] = ("data",),
    scalar_key: str | None = None,
    csv_delimiter: str | None = None,
) -> Iterator[Record]:
    """The records of a file, by its suffix (unknown suffixes: a JSON array if the text starts with
    `[`, else JSONL). `list_keys`: a JSON/YAML mapping holding the list under one of these keys is
    read as that list. `scalar_key`: a bare string item becomes `{scalar_key: item}` (else it is an
    error). Bad input raises located UserErrors when its record is reached."""
    check_file(path, what)
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        yield from _jsonl(path, scalar_key)
    elif suffix in CSV_SUFFIXES:
        yield from _csv(path, csv_delimiter or ("\t" if suffix == ".tsv" else ","))
    elif suffix in PARQUET_SUFFIXES:
        yield from _parquet(path)
    elif suffix in YAML_SUFFIXES:
        yield from _items(path, load_yaml(path, what), list_keys, scalar_key)
    else:
        text = read_text(path, what)
        stripped = text.lstrip()
        if suffix == ".json" or stripped.startswith("["):
            try:
                value = jsonsafe.loads(text, unique=True)
            except jsonsafe.DuplicateKey as exc:
                raise duplicate_key_error(path, exc) from None
            except json.JSONDecodeError as exc:
                # JSONL saved as .json: several objects, one a line
                if not (exc.msg == "Extra data" and stripped.startswith("{")):
                    raise UserError.at(path, json_problem(exc), line=exc.lineno) from None
            except jsonsafe.NumberOutOfRange as exc:
                raise UserError.at(path, str(exc), line=exc.line) from None
            except RecursionError:
                raise UserError.at(path, f"nested more than {MAX_DEPTH} levels deep") from None
            else:
                check_depth(value, path)
                value = safe_strings(value, text)
                yield from _items(path, value, list_keys, scalar_key)
                return
        yield from _jsonl_lines(path, text.splitlines(), scalar_key)


def read_records(path: Path, **options: Any) -> list[Record]:
    """Every record of a file (see `iter_records`); a file with none is an error."""
    records = list(iter_records(path, **options))
    if not records:
        what = options.get("what", "file")
        blank = not path.read_bytes().removeprefix(BOM.encode("utf-8")).strip()
        raise UserError(f"{path}: {what} is empty" if blank else f"{path}: no records in the {what}")
    return records


def _as_record(path: Path, line: int | None, index: int, value: Any, scalar_key: str | None) -> Record:
    if isinstance(value, str) and scalar_key is not None:
        value = {scalar_key: value}
    if not isinstance(value, dict):
        where = f"{path}:{line}" if line is not None else f"{path} item {index}"
        expected = "a JSON object or text" if scalar_key else "a JSON object"
        raise UserError(f"{where}: expected {expected}, got {type(value).__name__}")
    return Record(path, line, index, {str(k): v for k, v in value.items()})


def _items(path: Path, value: Any, list_keys: tuple[str, ...], scalar_key: str | None) -> Iterator[Record]:
    if isinstance(value, dict):
        for key in list_keys:
            if isinstance(value.get(key), list):
                value = value[key]
                break
        else:
            keys = " or ".join(f"'{k}:'" for k in list_keys)
            raise UserError(f"{path}: expected a list of records (or a mapping with {keys} holding one)")
    if value is None:
        return
    if not isinstance(value, list):
        raise UserError(f"{path}: expected a list of records, got {type(value).__name__}")
    for index, item in enumerate(value):
        yield _as_record(path, None, index, item, scalar_key)


def _jsonl(path: Path, scalar_key: str | None) -> Iterator[Record]:
    """JSONL read line by line as bytes: each line decoded on its own, so an error names it."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with fh:
        for number, raw in enumerate(fh, start=1):
            if number == 1:
                raw = raw.removeprefix(BOM.encode("utf-8"))
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise UserError.at(
                    path, f"not UTF-8 text (byte {exc.start} of the line)", line=number
                ) from None
            if text.strip():
                yield _jsonl_record(path, number, text, scalar_key)


def _jsonl_lines(path: Path, lines: list[str], scalar_key: str | None) -> Iterator[Record]:
    for number, text in enumerate(lines, start=1):
        if text.strip():
            yield _jsonl_record(path, number, text, scalar_key)


def _jsonl_record(path: Path, number: int, text: str, scalar_key: str | None) -> Record:
    value = parse_json(text, path, line=number)
    if isinstance(value, list):
        raise UserError.at(path, "expected a JSON object on each line, got a list", line=number)
    return _as_record(path, number, number - 1, value, scalar_key)


def _csv(path: Path, delimiter: str) -> Iterator[Record]:
    """A CSV's rows as records, each at the line where it starts: a quoted cell may span many
    lines, and the line a user opens the file at is the record's first. Every error of a row
    (a malformed cell, too many values, the checks of the fields later) names that line; records
    were located at the line where they end, a malformed one at the line where it starts."""
    csv.field_size_limit(CSV_FIELD_LIMIT)
    try:
        fh = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with fh:
        # strict: a quoted cell must end with its quote and a delimiter or a line break. Without it a
        # cell whose closing quote is missing or misplaced ran on over the next rows, so a GPTFuzzer
        # CSV with one bad quote was read as fewer, merged templates, and no error was said.
        reader = csv.reader(fh, delimiter=delimiter, strict=True)
        start, index = 1, 0
        try:
            header = next(reader, None)
            if header is None:
                return
            if any(not name.strip() for name in header):
                raise UserError.at(path, "the CSV header has an empty column name", line=1)
            seen: dict[str, int] = {}
            for column, name in enumerate(header):
                if (first := seen.setdefault(name, column)) != column:
                    # each row's later cell was read and its earlier one dropped, as json does a key
                    raise UserError.at(
                        path,
                        f"the CSV header names this column twice (columns {first + 1} and {column + 1}): keep one",
                        line=1,
                        field=name,
                    )
            while True:
                start = reader.line_num + 1  # the line the next record starts on
                row = next(reader, None)
                if row is None:
                    return
                if not row:  # a blank line
                    continue
                if len(row) > len(header):
                    raise UserError.at(path, "more values than header columns", line=start)
                missing = header[len(row) :]
                yield Record(
                    path,
                    start,
                    index,
                    dict(zip(header, [*row, *([""] * len(missing))], strict=True)),
                    frozenset(missing),
                )
                index += 1
        except UnicodeDecodeError as exc:
            raise UserError.at(path, f"not UTF-8 text (byte {exc.start})", line=reader.line_num + 1) from None
        except csv.Error as exc:
            # the parser stopped on its own line (a quoted cell may span many): named as well
            stop = max(reader.line_num, start)
            where = "" if stop == start else f" on line {stop}"
            quoting = "expected after" in str(exc) or "end of data" in str(exc)
            hint = ": a quote not closed, or a quote inside a quoted cell not doubled" if quoting else ""
            raise UserError.at(path, f"malformed CSV ({exc}{where}){hint}", line=start) from None


def _parquet(path: Path) -> Iterator[Record]:
    import pandas as pd

    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many kinds for a bad file
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"{path}: cannot read as parquet: {first}") from None
    for index, row in enumerate(frame.to_dict(orient="records")):
        yield Record(path, None, index, {str(k): v for k, v in row.items()})
