"""Turn what the user typed into a backend.

Inline specs:
    openai-compatible:NAME@URL[,URL2...]   chat endpoint(s) of any OpenAI-compatible server
    openai-completions:NAME@URL[,URL2...]  the legacy /completions endpoint (base models)
    openai:NAME                            api.openai.com, key in OPENAI_API_KEY
    local:smollm2 | local:PATH.gguf        llama.cpp, offline
    replay:PATH                            recorded answers
    NAME                                   a model defined in the --config YAML file

The YAML file (`models:` mapping name -> settings) can also declare identity, parameters,
system prompt, rate limits and prices; see docs/guides/models.md, "Config file".
"""

from __future__ import annotations

import difflib
import os
import unicodedata
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from distillscope.errors import UserError, clip
from distillscope.jsonsafe import bool_for_number
from distillscope.models.base import BACKENDS, Backend, ModelConfig, create_backend
from distillscope.models.types import GenerateParams
from distillscope.models.urls import check_header, expand_header, header_env_refs
from distillscope.naming import Naming, flag
from distillscope.records import bool_problem, field_suffix, load_yaml, yaml_error
from distillscope.redact import remember_secret_env

OPENAI_URL = "https://api.openai.com/v1"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
SPEC_HELP = (
    "expected openai-compatible:NAME@URL[,URL2], openai-completions:NAME@URL, openai:NAME, "
    "local:smollm2, local:PATH.gguf, replay:PATH, or a name from --config"
)


def spec_help(name: Naming = flag) -> str:
    """`SPEC_HELP`, naming the models file as the caller gives it (`--config`, `config=`)."""
    return SPEC_HELP.removesuffix("--config") + name("config")


# The inline spec kinds, in the grammar above; `parse_inline` accepts exactly these.
SPEC_KINDS = ("openai-compatible", "openai-completions", "openai", "local", "replay")
_FILE_SUFFIXES = (".jsonl", ".json", ".csv", ".parquet", ".gguf")


def model_label(spec: str) -> str:
    """The model a spec or name denotes, without backend kind, URLs, folders or file suffix:
    `openai-compatible:my-base@http://h/v1`, `openai-completions:my-base@http://h/v1` and
    `replay:answers/my-base.jsonl` are all `my-base`. Built from the spec grammar (SPEC_KINDS),
    so report matching cannot drift from what the CLI accepts."""
    text = spec.strip()
    kind, sep, rest = text.partition(":")
    if sep and kind.lower() == "replay":
        path = Path(rest.replace("\\", "/"))
        if path.name in GENERIC_REPLAY_FILES:
            return replay_name(path)
    if sep and kind.lower() in SPEC_KINDS:
        text = rest
        if kind.lower() in ("openai-compatible", "openai-completions"):
            text = text.partition("@")[0]
    text = text.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    for suffix in _FILE_SUFFIXES:
        if text.lower().endswith(suffix):
            text = text[: -len(suffix)]
            break
    return text


class ModelCatalog:
    """Named models from a YAML config file."""

    def __init__(self, models: dict[str, ModelConfig] | None = None, path: Path | None = None) -> None:
        self.models = models or {}
        self.path = path

    @classmethod
    def load(cls, path: str | Path | None) -> ModelCatalog:
        if path is None:
            return cls()
        path = Path(path)
        data = load_yaml(path, "config file")
        if data is None:
            return cls(path=path)
        if not isinstance(data, dict) or not isinstance(data.get("models", {}), dict):
            raise yaml_error(
                path, "expected a mapping with a 'models:' mapping of name -> settings", field="models"
            )
        models: dict[str, ModelConfig] = {}
        for name, raw in (data.get("models") or {}).items():
            models[str(name)] = _files_beside(path, _config_from_yaml(path, str(name), raw))
        return cls(models, path)


def _files_beside(config_file: Path, config: ModelConfig) -> ModelConfig:
    """A model's file (`replay:PATH`, `local:PATH.gguf`, `path:`) relative to the models file that
    names it, as a study file's are, and `~` the home folder: `models check -c sub/study.yaml ref`
    looked for the study's `replay:ref.jsonl` in the working directory (`ref.jsonl: file not found`)
    where `study sub/study.yaml` read `sub/ref.jsonl`. A file in the working directory's models file
    is the path as given, so its runs' settings (and their fingerprints) are what they were."""
    from distillscope.models.local import EMBEDDED

    source = config.path or config.model
    if config.kind not in ("replay", "local") or (config.kind == "local" and source in EMBEDDED):
        return config
    expanded = os.path.expanduser(source)
    resolved = expanded if Path(expanded).is_absolute() else str(config_file.parent / expanded)
    if resolved == source or Path(resolved) == Path(source):
        return config
    return config.model_copy(update={"path": resolved})


def ledger_identity(config: ModelConfig) -> str | None:
    """What the call ledger cannot tell apart in a served model: `ModelConfig.ledger_fields` with the
    parameters and system prompt every request carries. None for replay and local models, known by
    their file and weights."""
    import json

    if config.kind in ("replay", "local"):
        return None
    return json.dumps(
        [config.ledger_fields(), config.params.model_dump(mode="json"), config.system_prompt],
        sort_keys=True, default=str,
    )  # fmt: skip


def ledger_twin_message(name: str, first: str, config: ModelConfig, ledger: str) -> str:
    """Why `name` cannot share `ledger` with `first`, served under one name at another URL."""
    return (
        f"the same model to the call ledger as '{clip(first)}' ('{clip(config.cache_namespace or config.model)}', "
        f"the same API and parameters) at another URL: {ledger} keys a call by the model's "
        f"name, not its URL, so '{clip(name)}' would be answered with '{clip(first)}''s answers. If they "
        "are two models, give one a cache_namespace (or serve it under another name); if they are replicas "
        "of one, list both URLs under one model"
    )


def check_one_ledger(path: Path, catalog: ModelCatalog, *, ledger: str) -> None:
    """No two models of a models file (a study's `models:`, a `--config` file given with a shared
    `--cache`) that one call ledger cannot tell apart (`ledger_identity`): two models served under
    one name at two URLs (`model@http://a`, `model@http://b`: two fine-tunes each served by vLLM as
    `model`) were one model to it, and the second was answered with the first's answers, never
    asked, exit 0. Models that share a URL are replicas of one model."""
    seen: dict[str, tuple[str, set[str]]] = {}  # what the ledger keys -> (the first model, its URLs)
    for name, config in catalog.models.items():
        key = ledger_identity(config)
        if key is None:
            continue
        urls = set(config.urls)
        first = seen.setdefault(key, (name, urls))
        if first[0] != name and not first[1] & urls:
            raise yaml_error(
                path, ledger_twin_message(name, first[0], config, ledger), field=f"models.{name}"
            )


def _config_from_yaml(path: Path, name: str, raw: Any) -> ModelConfig:
    if isinstance(raw, str):
        raw = {"spec": raw}
    if not isinstance(raw, dict):
        raise yaml_error(path, "expected a mapping of settings", field=f"models.{name}")
    raw = dict(raw)
    spec = raw.pop("spec", None)
    base: dict[str, Any] = {}
    if spec is not None:
        if not isinstance(spec, str):
            raise yaml_error(path, "expected a model spec (text)", field=f"models.{name}.spec")
        try:
            base = parse_inline(spec).model_dump(exclude_unset=True)
        except UserError as exc:
            raise yaml_error(path, str(exc), field=f"models.{name}.spec", value=spec) from None
    if isinstance(raw.get("url"), str):
        raw["urls"] = [raw.pop("url")]
    merged = {**base, **raw, "name": raw.get("name", name)}
    merged.setdefault("model", name)
    merged.setdefault("kind", "openai-compatible")
    auth = authorization_header(merged.get("headers"))
    if auth is not None:
        # the configured header carries the key: OPENAI_API_KEY (the default) must not replace it
        # and be sent to this server; a key variable named as well is a contradiction
        if raw.get("api_key_env") is not None:
            raise yaml_error(
                path,
                f"the header '{auth}' and api_key_env both give the Authorization header: keep one "
                '(a header may name its variable: "Bearer ${MY_KEY}")',
                field=f"models.{name}.headers.{auth}",
            )
        merged["api_key_env"] = None
    if merged.get("kind") == "openai-compatible":
        merged.setdefault("api_key_env", DEFAULT_KEY_ENV)
    wrong = bool_for_number(ModelConfig, merged)
    if wrong is not None:  # pydantic reads `max_tokens: yes` (a YAML boolean) as 1
        field = f"models.{name}" + field_suffix(wrong[0])
        raise yaml_error(path, bool_problem(wrong[1]), field=field)
    try:
        config = ModelConfig.model_validate(merged)
    except ValidationError as exc:
        loc = ".".join(str(p) for p in exc.errors()[0]["loc"])
        raise yaml_error(path, _first_error(exc), field=f"models.{name}.{loc}", value=merged) from None
    # checked here, where the file and line are known: building the backend refused them later in
    # a line that named neither (`unknown model kind 'ollama'`, `api must be 'chat' ...`)
    if config.kind not in BACKENDS:
        raise yaml_error(path, BACKENDS.unknown_message([config.kind]), field=f"models.{name}.kind")
    if config.kind == "openai-compatible" and config.api not in ("chat", "completions"):
        raise yaml_error(
            path, f"must be 'chat' or 'completions', not '{clip(config.api)}'", field=f"models.{name}.api"
        )
    return config


def authorization_header(headers: Any) -> str | None:
    """The name of a configured `Authorization` header, in whatever case it is written; None if none."""
    if not isinstance(headers, dict):
        return None
    return next((str(k) for k in headers if str(k).lower() == "authorization"), None)


def parse_inline(spec: str, naming: Naming = flag) -> ModelConfig:
    """An inline spec's settings; an error names the models file as `naming` does."""
    kind, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise UserError(f"model spec '{spec}': {spec_help(naming)}")
    if kind in ("openai-compatible", "openai-completions"):
        # NAME@URL: the model name may itself hold '@' (rare); the URL part starts at '@http'.
        at_url = rest.find("@http")
        name, at, urls = (rest[:at_url], "@", rest[at_url + 1 :]) if at_url > 0 else rest.partition("@")
        url_list = [u.strip() for u in urls.split(",") if u.strip()]
        if not at or not name or not url_list:
            raise UserError(f"model spec '{spec}': expected {kind}:NAME@URL[,URL2...]")
        return _inline_config(
            spec,
            kind="openai-compatible",
            model=name,
            urls=url_list,
            api="completions" if kind == "openai-completions" else "chat",
            api_key_env=DEFAULT_KEY_ENV,
        )
    if kind == "openai":
        return _inline_config(
            spec,
            kind="openai-compatible",
            model=rest,
            urls=[OPENAI_URL],
            api_key_env=DEFAULT_KEY_ENV,
            name=rest,
        )
    if kind == "local":
        name = rest if rest in ("smollm2",) else Path(rest).stem
        return _inline_config(spec, kind="local", model=rest, name=name)
    if kind == "replay":
        return _inline_config(spec, kind="replay", model=rest, path=rest, name=replay_name(Path(rest)))
    raise UserError(f"model spec '{spec}': unknown kind '{kind}'; {spec_help(naming)}")  # not in SPEC_KINDS


def _inline_config(spec: str, **fields: Any) -> ModelConfig:
    """A validated config from an inline spec; a refused field is one line naming the spec."""
    try:
        return ModelConfig.model_validate(fields)
    except ValidationError as exc:
        raise UserError(f"model spec '{spec}': {_first_error(exc)}") from None


def _first_error(exc: ValidationError) -> str:
    """The first problem of a refused config, without the value (which may be a secret)."""
    err = exc.errors()[0]
    message = str(err["msg"]).removeprefix("Value error, ")
    loc = err.get("loc", ())
    if err.get("type") == "extra_forbidden" and len(loc) >= 2 and loc[-2] == "params":
        known = list(GenerateParams.model_fields)
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        message = (
            f"not a parameter distillscope sends (it sends {', '.join(known)}), so it would be ignored{hint}"
        )
    return message


# Replay files named for what they hold, not for the model that answered: AlpacaEval's
# `<model>/model_outputs.json` and `models answer`'s `DIR/responses.jsonl`.
GENERIC_REPLAY_FILES = ("model_outputs.json", "responses.jsonl")


def replay_name(path: Path) -> str:
    """A replay file's model name: its stem, or its folder's name for a file of GENERIC_REPLAY_FILES
    (`replay:runs/gpt4/responses.jsonl` is `gpt4`, not `responses`, in every command)."""
    folder = path.parent.name
    return folder if path.name in GENERIC_REPLAY_FILES and folder not in ("", "..") else path.stem


def resolve_config(spec: str, catalog: ModelCatalog | None = None, naming: Naming = flag) -> ModelConfig:
    """A spec string or config name -> validated settings (not yet connected); an error names the
    models file as `naming` does (the CLI's `--config`, the API's `config=`)."""
    catalog = catalog or ModelCatalog()
    if spec in catalog.models:
        config = catalog.models[spec]
    elif ":" in spec:
        config = parse_inline(spec, naming)
    else:
        where = (
            f" (config {catalog.path} defines: {', '.join(sorted(catalog.models)) or 'nothing'})"
            if catalog.path
            else ""
        )
        raise UserError(f"model spec '{spec}': not a known model name{where}; {spec_help(naming)}")
    _check_key(spec, config)
    _check_header_envs(spec, config)
    remember_secret_env(config.api_key_env)
    return config


def _check_key(spec: str, config: ModelConfig) -> None:
    """A hosted API needs its key; a local server without one is fine."""
    env = config.api_key_env
    if config.kind != "openai-compatible" or not env:
        return
    needs_key = any(u.startswith(OPENAI_URL) for u in config.urls) or env != DEFAULT_KEY_ENV
    value = os.environ.get(env, "")
    if needs_key and not value.strip():
        state = "is not set" if not value else "holds only blank space"
        raise UserError(f"model '{spec}': environment variable {env} {state} (it must hold the API key)")
    problem = key_value_problem(value)
    if problem is not None:
        raise UserError(f"model '{spec}': environment variable {env} {problem}")


def key_value_problem(value: str) -> str | None:
    """Why a key variable's value cannot be sent as a header, without showing it: a line break or
    another control character (a trailing newline, a CR from a file saved on Windows) made every
    call fail inside the HTTP client, retried 7 times as a "malformed reply" of the server."""
    bad = next((ch for ch in value if unicodedata.category(ch) == "Cc"), None)
    if bad is None:
        return None
    kind = "a line break" if bad in "\r\n" else "a control character"
    return (
        f"holds {kind} (U+{ord(bad):04X}; its value is not shown), which no HTTP header may carry: "
        "often a trailing newline or a carriage return from a file saved on Windows; remove it"
    )


def _check_header_envs(spec: str, config: ModelConfig) -> None:
    """`headers: {api-key: "${AZURE_KEY}"}`: each variable must be set, and its value must be a
    valid header value; its value is then masked wherever a text could show it."""
    for name, value in config.headers.items():
        for env in header_env_refs(value):
            if not os.environ.get(env):
                raise UserError(
                    f"model '{spec}': environment variable {env} (used in header '{name}') is not set"
                )
            remember_secret_env(env)
        try:
            check_header(name, expand_header(value, os.environ))
        except ValueError as exc:
            raise UserError(f"model '{spec}': {exc} (after reading its environment variables)") from None


def build_backend(
    spec: str, catalog: ModelCatalog | None = None, *, naming: Naming = flag, **overrides: Any
) -> Backend:
    """Resolve and construct. `overrides` (e.g. system_prompt, params, concurrency) win over the
    config; `naming`: how a bad spec's error names the models file (`--config`, `config=`)."""
    config = resolve_config(spec, catalog, naming)
    updates = {k: v for k, v in overrides.items() if v is not None}
    if "params" in updates:
        updates["params"] = config.params.merged(updates["params"])
    if updates:
        config = config.model_copy(update=updates)
    return create_backend(config)
