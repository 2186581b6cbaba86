import asyncio
from pathlib import Path
from typing import Any

import pytest

from distillscope.errors import UserError
from distillscope.models.spec import ModelCatalog, build_backend, model_label, parse_inline, resolve_config
from distillscope.models.types import ModelRequest


def test_inline_openai_compatible_with_replicas() -> None:
    cfg = parse_inline("openai-compatible:qwen@http://a:8000/v1,http://b:8000/v1")
    assert cfg.kind == "openai-compatible"
    assert cfg.model == "qwen"
    assert cfg.urls == ["http://a:8000/v1", "http://b:8000/v1"]
    assert cfg.api == "chat"
    assert cfg.system_prompt is None  # default: no system prompt


def test_inline_completions_endpoint() -> None:
    cfg = parse_inline("openai-completions:base@http://h:1/v1")
    assert cfg.api == "completions"


def test_replay_named_after_file_stem(tmp_path: Path) -> None:
    cfg = parse_inline(f"replay:{tmp_path}/vicuna-13b.jsonl")
    assert cfg.display_name == "vicuna-13b"


def test_a_models_answer_file_replays_under_its_folders_name(tmp_path: Path) -> None:
    """`models answer --out runs/gpt4` writes runs/gpt4/responses.jsonl: replayed, that model is `gpt4`
    (every such file was `responses` before), and reports match it by the same name."""
    spec = f"replay:{tmp_path}/gpt4/responses.jsonl"
    assert parse_inline(spec).display_name == "gpt4" == model_label(spec)
    assert model_label("replay:runs\\claude\\responses.jsonl") == "claude"
    assert parse_inline("replay:alpaca/model_outputs.json").display_name == "alpaca"
    assert parse_inline("replay:responses.jsonl").display_name == "responses"  # no folder named
    assert parse_inline("replay:../responses.jsonl").display_name == "responses"


@pytest.mark.parametrize(
    "spec",
    [
        "nonsense",
        "openai-compatible:x",
        "openai-compatible:@http://h",
        "openai-compatible:m@ftp://h",
        "magic:thing",
    ],
)
def test_bad_specs_are_user_errors(spec: str) -> None:
    with pytest.raises(UserError):
        resolve_config(spec)


def test_hosted_openai_needs_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(UserError, match="OPENAI_API_KEY"):
        resolve_config("openai:gpt-4o")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert resolve_config("openai:gpt-4o").urls == ["https://api.openai.com/v1"]


def test_local_server_works_without_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert resolve_config("openai-compatible:m@http://127.0.0.1:9/v1").api_key_env == "OPENAI_API_KEY"


def test_yaml_config_defines_models_with_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLLM_KEY", "secret")
    path = tmp_path / "models.yaml"
    path.write_text(
        """
models:
  qwen-cluster:
    model: Qwen/Qwen2.5-7B-Instruct
    urls: [http://node1:8000/v1, http://node2:8000/v1]
    api_key_env: VLLM_KEY
    params: {temperature: 0.7, max_tokens: 512}
    identity: {organisation: Alibaba, family: qwen}
    price_per_million_input: 0.5
  judge: openai-compatible:judge-model@http://127.0.0.1:9/v1
""",
        encoding="utf-8",
    )
    catalog = ModelCatalog.load(path)
    cfg = resolve_config("qwen-cluster", catalog)
    assert cfg.urls == ["http://node1:8000/v1", "http://node2:8000/v1"]
    assert cfg.params.temperature == 0.7
    assert cfg.identity is not None and cfg.identity.organisation == "Alibaba"
    assert resolve_config("judge", catalog).model == "judge-model"
    assert "secret" not in str(cfg.public_dict())


def test_yaml_errors_name_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("models:\n  m:\n    model: x\n    timeout_s: soon\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"bad.yaml:4: field 'models\.m\.timeout_s'"):
        ModelCatalog.load(path)
    path.write_text('models:\n  a: {spec: "replay:a.jsonl"}\n  qwen2.5: {spec: "nope:x"}\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"bad.yaml:3: field 'models\.qwen2\.5\.spec'"):  # a name with a dot
        ModelCatalog.load(path)
    path.write_text("models: [\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"bad.yaml:\d+"):
        ModelCatalog.load(path)


def test_unknown_config_key_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("models:\n  m:\n    model: x\n    temprature: 1\n", encoding="utf-8")
    with pytest.raises(UserError, match="temprature"):
        ModelCatalog.load(path)


def test_overrides_win_and_merge_params() -> None:
    from distillscope.models.types import GenerateParams

    backend = build_backend(
        "openai-compatible:m@http://127.0.0.1:9/v1",
        system_prompt="Be brief.",
        params=GenerateParams(max_tokens=5),
    )
    assert backend.config.system_prompt == "Be brief."
    assert backend.config.params.max_tokens == 5


@pytest.mark.parametrize(
    ("setting", "field", "expected"),
    [
        ("concurrency: yes", "models.m.concurrency", "an integer"),
        ("timeout_s: true", "models.m.timeout_s", "a number"),
        ("params: {max_tokens: on}", "models.m.params.max_tokens", "an integer"),
        ("params: {temperature: false}", "models.m.params.temperature", "a number"),
    ],
)
def test_config_a_yaml_boolean_is_not_read_as_a_number(
    tmp_path: Path, setting: str, field: str, expected: str
) -> None:
    """`concurrency: yes` (YAML's true) was read as 1, `timeout_s: true` as 1.0 seconds."""
    path = tmp_path / "models.yaml"
    path.write_text(f'models:\n  m:\n    spec: "openai-compatible:m@http://127.0.0.1:9/v1"\n    {setting}\n')
    with pytest.raises(UserError) as refused:
        ModelCatalog.load(path)
    assert str(refused.value).startswith(f"{path}:4: field '{field}': expected {expected}, got a boolean")


@pytest.mark.parametrize(
    ("params", "key", "hint"),
    [
        ("{temprature: 0.2}", "temprature", "did you mean 'temperature'?"),
        ("{temperature: 0, presence_penalty: 1.0}", "presence_penalty", "it sends temperature"),
        ("{stream: true}", "stream", "so it would be ignored"),
    ],
)
def test_a_sampling_parameter_the_backend_does_not_send_is_refused_at_its_line(
    tmp_path: Path, params: str, key: str, hint: str
) -> None:
    """`params: {temprature: 0.2}` was dropped without a word: the run used the server's default
    temperature, exit 0, and its config.json recorded `params: {}`."""
    path = tmp_path / "c.yaml"
    path.write_text(
        f"models:\n  m:\n    model: x\n    url: http://127.0.0.1:9/v1\n    params: {params}\n",
        encoding="utf-8",
    )
    with pytest.raises(UserError) as info:
        ModelCatalog.load(path)
    message = str(info.value)
    assert f"c.yaml:5: field 'models.m.params.{key}'" in message and hint in message
    assert "\n" not in message


def test_one_stop_string_is_taken_as_the_openai_api_takes_it(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text('models:\n  m:\n    model: x\n    params: {stop: "###"}\n', encoding="utf-8")
    assert ModelCatalog.load(path).models["m"].params.stop == ("###",)


@pytest.mark.parametrize(
    ("setting", "field", "needle"),
    [
        ("kind: ollama", "kind", "unknown model kind 'ollama' (choose from: "),
        ("api: Chat", "api", "must be 'chat' or 'completions', not 'Chat'"),
    ],
)
def test_an_unknown_kind_or_api_in_a_config_is_named_at_its_line_and_field(
    tmp_path: Path, setting: str, field: str, needle: str
) -> None:
    """Both were refused only when the backend was built, in a line naming neither file nor field."""
    path = tmp_path / "c.yaml"
    path.write_text(f"models:\n  m:\n    model: x\n    url: http://127.0.0.1:9/v1\n    {setting}\n", "utf-8")
    with pytest.raises(UserError) as info:
        ModelCatalog.load(path)
    assert str(info.value).startswith(f"{path}:5: field 'models.m.{field}': ")
    assert needle in str(info.value)
    if field == "kind":  # the kinds registered so far, in the order their modules were imported
        assert {"local", "openai-compatible"} <= set(
            str(info.value).split("from: ")[1].rstrip(")").split(", ")
        )


def test_a_configured_authorization_header_is_sent_not_replaced_by_the_key_variable(
    tmp_path: Path, openai_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gateway's `Authorization: "Bearer ${GW_KEY}"` was replaced by `Bearer $OPENAI_API_KEY`
    (the default key variable): the gateway got the user's OpenAI key, and refused the call."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-not-for-the-gateway")
    monkeypatch.setenv("GW_KEY", "gw-the-gateway-key")
    server = openai_server(require_key="gw-the-gateway-key")
    path = tmp_path / "c.yaml"
    for name in ("Authorization", "authorization"):
        path.write_text(
            f'models:\n  gw:\n    model: m\n    url: {server.url}\n    headers: {{{name}: "Bearer ${{GW_KEY}}"}}\n',
            encoding="utf-8",
        )
        backend = build_backend("gw", ModelCatalog.load(path))
        response = asyncio.run(_answer_once(backend))
        assert response.text == "echo: hi"
    for seen in server.headers_seen:
        values = [v for k, v in seen.items() if k.lower() == "authorization"]
        assert values == ["Bearer gw-the-gateway-key"]
    assert not any("sk-openai" in str(seen) for seen in server.headers_seen)
    # the Python API's headers= override is held to the same rule
    api = build_backend(
        f"openai-compatible:m@{server.url}", headers={"AUTHORIZATION": "Bearer gw-the-gateway-key"}
    )
    assert asyncio.run(_answer_once(api)).text == "echo: hi"
    assert "sk-openai" not in str(server.headers_seen[-1])


def test_an_authorization_header_and_an_api_key_env_together_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "models:\n  gw:\n    model: m\n    url: http://127.0.0.1:9/v1\n"
        '    api_key_env: GW_KEY\n    headers: {Authorization: "Bearer ${OTHER}"}\n',
        encoding="utf-8",
    )
    with pytest.raises(UserError, match=r"c.yaml:6: field 'models\.gw\.headers\.Authorization': .*keep one"):
        ModelCatalog.load(path)


async def _answer_once(backend: Any) -> Any:
    try:
        return await backend.generate(backend.prepare(ModelRequest.user("hi")))
    finally:
        await backend.aclose()


def test_a_models_files_are_read_beside_it_as_a_study_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`models check -c sub/study.yaml ref` read the study's `replay:ref.jsonl` from the working
    directory (`ref.jsonl: file not found`, exit 2) where `study sub/study.yaml` reads sub/ref.jsonl.
    Every `--config` file's model files are now relative to it, as a study file's are; one in the
    working directory keeps its paths as given (its runs' settings fingerprints unchanged)."""
    from typer.testing import CliRunner

    from distillscope.cli import app
    from distillscope.studies import load_study

    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "ref.jsonl").write_text(
        '{"prompt": "Reply with the word: ok", "response": "ok"}\n', encoding="utf-8"
    )
    (sub / "vic.jsonl").write_text(
        '{"prompt": "Reply with the word: ok", "response": "ok"}\n', encoding="utf-8"
    )
    study = sub / "study.yaml"
    study.write_text(
        'models:\n  ref: "replay:ref.jsonl"\n  vic: {kind: replay, model: vic.jsonl}\n'
        "targets: [vic]\nreference: ref\nice: null\nrse: {judge: offline, datasets: {d: examples}}\n",
        encoding="utf-8",
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    checked = CliRunner().invoke(
        app, ["models", "check", "-c", "../sub/study.yaml", "ref", "vic"], env={"COLUMNS": "200"}
    )
    assert checked.exit_code == 0 and "file not found" not in checked.output, checked.output
    assert checked.output.count(" ok ") >= 2
    catalog = ModelCatalog.load(Path("../sub/study.yaml"))
    spec = load_study(Path("../sub/study.yaml"))
    for name in ("ref", "vic"):  # the same file as the study reads
        assert Path(str(catalog.models[name].path)).resolve() == Path(str(spec.catalog.models[name].path))
    monkeypatch.chdir(sub)
    here = ModelCatalog.load(Path("study.yaml"))
    assert here.models["ref"].path == "ref.jsonl" and here.models["vic"].path is None
