"""mkdocs hooks: the pages that are generated, so they cannot drift from what they describe.

A page holds a marker comment where generated Markdown goes:

    <!-- distillscope:cli-reference -->        every command of the typer app, with its help and options
    <!-- distillscope:bench-results -->        every bench/results/*.json (title, command, tables, notes)
    <!-- distillscope:schemas -->              the JSON Schemas in docs/schema/, one section per kind
    <!-- distillscope:include PATH -->         a Markdown file of the repository (bench/README.md,
                                               CHANGELOG.md), its links to repository files made plain
    <!-- distillscope:see PAGE -->             a link to docs/PAGE once it exists (nothing before)

Guides that the nav does not list yet are added to its Guides section (`on_config`).

The renderers are plain functions (tests call them on files they write); `on_page_markdown` is the
hook mkdocs calls.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"<!-- distillscope:(?P<name>[a-z-]+)(?: (?P<arg>\S+))? -->")


# ---------------------------------------------------------------- bench results


def _cell(value: object) -> str:
    """A table cell: numbers as written by the script, text with its pipes and line breaks escaped."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def render_bench_result(data: dict[str, Any], source: str) -> str:
    """One bench result file as Markdown: title, how to regenerate it, when, its tables and notes."""
    for key in ("title", "command", "tables"):
        if key not in data:
            raise ValueError(
                f"{source}: no {key!r} (bench results hold title, command, generated, tables, notes)"
            )
    out = [f"### {data['title']}", ""]
    generated = data.get("generated")
    out += [
        f"Regenerate with `{data['command']}`" + (f" (this run: {generated})." if generated else "."),
        f"Source: `{source}`.",
        "",
    ]
    for table in data["tables"]:
        columns = [str(c) for c in table["columns"]]
        if table.get("title"):
            out += [f"**{table['title']}**", ""]
        out.append("| " + " | ".join(_cell(c) for c in columns) + " |")
        out.append("|" + "---|" * len(columns))
        for row in table["rows"]:
            if len(row) != len(columns):
                raise ValueError(
                    f"{source}: table {table.get('title')!r} has a row of {len(row)} cells, not {len(columns)}"
                )
            out.append("| " + " | ".join(_cell(v) for v in row) + " |")
        out.append("")
    for note in data.get("notes", []):
        out.append(f"- {note}")
    if data.get("notes"):
        out.append("")
    return "\n".join(out)


def render_bench_results(folder: Path) -> str:
    """Every `*.json` in `folder`, in name order; a line saying none exist yet where there are none."""
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not files:
        return f"No bench results yet: the scripts in `bench/` write them to `{folder.name}/`.\n"
    parts = []
    for path in files:
        source = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else path.name
        parts.append(render_bench_result(json.loads(path.read_text(encoding="utf-8")), source))
    return "\n".join(parts)


# ---------------------------------------------------------------- CLI reference


def cli_commands() -> list[tuple[list[str], Any]]:
    """Every command and group of the `distillscope` app, depth first, with their click objects."""
    import typer.main

    from distillscope.cli import _register_optional, app

    _register_optional(None)
    root = typer.main.get_command(app)
    found: list[tuple[list[str], Any]] = []

    def walk(path: list[str], command: Any) -> None:
        found.append((path, command))
        for name, sub in getattr(command, "commands", {}).items():
            walk([*path, name], sub)

    walk([], root)
    return found


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def _help_markdown(text: str) -> tuple[str, str]:
    """A command's help as Markdown: its prose paragraphs, and its `Example:` lines as a shell block."""
    prose, examples = [], []
    for paragraph in text.split("\n\n"):
        example = re.match(r"Examples?: (distillscope .*)", paragraph, re.S)
        if example:
            examples += ["Example:", "", "```bash", example.group(1).strip(), "```", ""]
        else:
            prose += [_escape(paragraph), ""]
    return "\n".join(prose), "\n".join(examples)


def _param_row(param: Any, ctx: Any) -> str:
    """One option or argument: its names, type, whether required, default and help."""
    option = param.param_type_name == "option"
    names = (
        ", ".join(f"`{n}`" for n in [*param.opts, *param.secondary_opts])
        if option
        else f"`{param.name.upper()}`"
    )
    kind = "flag" if getattr(param, "is_flag", False) else param.display_type(ctx).strip("<>")
    default = param.get_default(ctx) if option and param.show_default is not False else None
    shown = "" if default is None or default is False or default in ((), [], "") else f"`{default}`"
    required = "yes" if param.required else ""
    return f"| {names} | {_escape(kind)} | {required} | {shown} | {_escape(param.help or '')} |"


def render_cli_reference() -> str:
    """The reference of every command: its help (reflowed as `--help` shows it), usage and parameters."""
    import typer.main  # noqa: F401  (the click context below comes from typer's click)

    out = []
    for path, command in cli_commands():
        name = " ".join(["distillscope", *path])
        ctx = command.context_class(command, info_name=name)
        level = "#" * min(2 + len(path), 4) if path else "##"
        out += [f"{level} `{name}`", ""]
        prose, example = _help_markdown(command.help or "")
        out += [prose, ""]
        usage = " ".join(
            re.sub(r"\{(\w+)\}", lambda m: m.group(1).upper(), piece)
            for piece in command.collect_usage_pieces(ctx)
        )
        out += ["```text", f"{name} {usage}".rstrip(), "```", ""]
        params = [p for p in command.params if not getattr(p, "hidden", False)]
        if params:
            out += ["| parameter | type | required | default | help |", "|---|---|---|---|---|"]
            out += [_param_row(p, ctx) for p in params]
            out.append("")
        if example:
            out += [example, ""]
        subs = getattr(command, "commands", {})
        if subs:
            listed = ", ".join(f"`{' '.join([*path, s])}`" for s in subs)
            out += [f"Commands: {listed}.", ""]
    return "\n".join(out)


# ---------------------------------------------------------------- results schema


def render_schemas(folder: Path, link_prefix: str = "../schema/") -> str:
    """One section per JSON Schema file: its title, the file to download, and its top-level fields."""
    out = []
    for path in sorted(folder.glob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        kind = path.name.removesuffix(".schema.json")
        out += [f"## `{kind}`: {schema.get('title', kind)}", ""]
        if schema.get("description"):
            out += [_escape(schema["description"]), ""]
        out += [f"Schema file: [`{path.name}`]({link_prefix}{path.name}).", ""]
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        if props:
            out += ["| field | type | required | description |", "|---|---|---|---|"]
            for field, spec in props.items():
                out.append(
                    f"| `{field}` | {_escape(_type_of(spec))} | {'yes' if field in required else ''} | "
                    f"{_escape(spec.get('description', ''))} |"
                )
            out.append("")
    return "\n".join(out)


def _type_of(spec: dict[str, Any]) -> str:
    if "$ref" in spec:
        return spec["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in spec:
        return " or ".join(_type_of(s) for s in spec["anyOf"])
    if spec.get("type") == "array" and isinstance(spec.get("items"), dict):
        return f"array of {_type_of(spec['items'])}"
    if spec.get("type") == "object" and isinstance(spec.get("additionalProperties"), dict):
        return f"map to {_type_of(spec['additionalProperties'])}"
    if "const" in spec:
        return json.dumps(spec["const"])
    return str(spec.get("type", "any"))


# ---------------------------------------------------------------- includes

_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]+)\]\((?P<target>[^)\s]+)\)")


def include(path: Path) -> str:
    """A repository Markdown file for the site: its first heading dropped (the page has its own), and
    links to repository files (which the site does not hold) turned into their text and the path."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"\A# [^\n]*\n", "", text)

    def plain(match: re.Match[str]) -> str:
        target = match.group("target")
        if re.match(r"[a-z]+://|#|mailto:", target):
            return match.group(0)
        label = match.group("text")
        return label if label.strip("`") == target else f"{label} (`{target}`)"

    return _LINK.sub(plain, text)


# ---------------------------------------------------------------- pages written beside this one

DOCS = REPO / "docs"


def page_title(path: Path) -> str:
    """A page's first `# ` heading, else its file name."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path.stem.replace("-", " ").capitalize()


def see_also(target: str, page_uri: str, docs: Path = DOCS) -> str:
    """`<!-- distillscope:see guides/judge.md -->`: a link to that page where it exists, nothing where it
    does not yet (a guide being written in another branch), so the strict build passes either way."""
    path = docs / target
    if not path.is_file():
        return ""
    depth = page_uri.count("/")
    return f"See also: [{page_title(path)}]({'../' * depth}{target})."


def add_unlisted_guides(nav: list[Any], docs: Path = DOCS) -> list[str]:
    """Every `guides/*.md` that the nav's Guides section does not list is appended to it (titled by its
    heading), so a guide added before mkdocs.yml names it is still reachable. Returns what was added."""
    section = next((item["Guides"] for item in nav if isinstance(item, dict) and "Guides" in item), None)
    if section is None or not (docs / "guides").is_dir():
        return []
    listed = {next(iter(entry.values())) if isinstance(entry, dict) else entry for entry in section}
    added = []
    for path in sorted((docs / "guides").glob("*.md")):
        uri = f"guides/{path.name}"
        if uri not in listed:
            section.append({page_title(path): uri})
            added.append(uri)
    return added


# ---------------------------------------------------------------- the hook


def expand(markdown: str, page_uri: str = "index.md") -> str:
    """Replace every marker of `markdown` (the page at `page_uri` in docs/) with what it names."""

    def replace(match: re.Match[str]) -> str:
        name, arg = match.group("name"), match.group("arg")
        if name == "cli-reference":
            return render_cli_reference()
        if name == "bench-results":
            return render_bench_results(REPO / "bench" / "results")
        if name == "schemas":
            return render_schemas(REPO / "docs" / "schema")
        if name == "include" and arg:
            return include(REPO / arg)
        if name == "see" and arg:
            return see_also(arg, page_uri)
        raise ValueError(f"unknown docs marker {match.group(0)}")

    return MARKER.sub(replace, markdown)


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    """mkdocs: expand the markers of each page."""
    return expand(markdown, page.file.src_uri)


def on_config(config: Any, **_: Any) -> Any:
    """mkdocs: guides not listed in the nav yet are added to its Guides section."""
    if config.nav:
        add_unlisted_guides(config.nav, Path(config.docs_dir))
    return config
