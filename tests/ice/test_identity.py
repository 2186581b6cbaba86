"""The identity registry: model names and organisations resolve, names are found on word edges
(Latin) and anywhere (Chinese), users can add families, unknown targets say how to declare them."""

from __future__ import annotations

from pathlib import Path

import pytest

from distillscope.errors import UserError
from distillscope.ice.identity import IdentityRegistry
from distillscope.models.base import ModelIdentity


@pytest.fixture(scope="module")
def registry() -> IdentityRegistry:
    return IdentityRegistry.builtin()


def test_builtin_is_cached_and_has_at_least_30_families(registry: IdentityRegistry) -> None:
    assert IdentityRegistry.builtin() is registry
    assert len(registry.families) >= 30
    ids = [f.id for f in registry.families]
    assert len(ids) == len(set(ids))
    classes = {f.id: f.vendor_class for f in registry.families}
    assert (
        classes["openai"] == "openai" and classes["anthropic"] == "anthropic" and classes["qwen"] == "other"
    )


@pytest.mark.parametrize(
    ("model", "organisation", "family"),
    [
        ("glm-4-plus", "Zhipu AI", "glm"),
        ("qwen2.5-7b-instruct", "Alibaba Cloud", "qwen"),
        ("Qwen/Qwen2.5-72B-Instruct", "Alibaba Cloud", "qwen"),
        ("qwen-max-0919", "Alibaba Cloud", "qwen"),
        ("deepseek-r1", "DeepSeek", "deepseek"),
        ("llama3.1-70b-instruct", "Meta", "llama"),
        ("meta-llama/Llama-3.1-8B-Instruct", "Meta", "llama"),
        ("TheBloke/Llama-2-7B-GPTQ", "Meta", "llama"),
        ("doubao-pro-32k", "ByteDance", "doubao"),
        ("gemini-1.5-pro", "Google", "gemini"),
        ("gemma-2-9b-it", "Google", "gemma"),
        ("gpt-4o-mini", "OpenAI", "openai"),
        ("o1-mini", "OpenAI", "openai"),
        ("claude-3-5-sonnet-20241022", "Anthropic", "anthropic"),
        ("smollm2", "Hugging Face", "smollm"),
        ("phi-3-mini-4k-instruct", "Microsoft", "phi"),
        ("mistral-7b-instruct-v0.3", "Mistral AI", "mistral"),
        ("yi-34b-chat", "01.AI", "yi"),
    ],
)
def test_for_model(registry: IdentityRegistry, model: str, organisation: str, family: str) -> None:
    found = registry.for_model(model)
    assert found is not None, model
    assert (found.organisation, found.family) == (organisation, family)
    assert found.statement.startswith(f"You were developed by {organisation}")
    assert organisation in found.names


def test_for_model_unknown_is_none(registry: IdentityRegistry) -> None:
    assert registry.for_model("my-private-model-v2") is None


@pytest.mark.parametrize(
    ("text", "organisation"),
    [
        ("OpenAI", "OpenAI"),
        ("openai", "OpenAI"),
        ("Zhipu AI", "Zhipu AI"),
        ("zhipu", "Zhipu AI"),
        ("智谱", "Zhipu AI"),
        ("Alibaba Cloud", "Alibaba Cloud"),
        ("Alibaba", "Alibaba Cloud"),
        ("阿里巴巴", "Alibaba Cloud"),
        ("阿里云", "Alibaba Cloud"),
        ("DeepSeek", "DeepSeek"),
        ("深度求索", "DeepSeek"),
        ("Meta", "Meta"),
        ("Meta AI", "Meta"),
        ("Google", "Google"),
        ("Google DeepMind", "Google"),
        ("ByteDance", "ByteDance"),
        ("字节跳动", "ByteDance"),
        ("Microsoft", "Microsoft"),
        ("  microsoft corporation ", "Microsoft"),
        ("Anthropic", "Anthropic"),
        ("百度", "Baidu"),
    ],
)
def test_for_org_is_case_and_alias_insensitive(
    registry: IdentityRegistry, text: str, organisation: str
) -> None:
    assert registry.for_org(text).organisation == organisation


def test_unknown_org_says_how_to_declare(registry: IdentityRegistry) -> None:
    with pytest.raises(UserError) as err:
        registry.for_org("Acme Robotics")
    message = str(err.value)
    assert "Acme Robotics" in message and "--target-org" in message and "identity:" in message


def test_resolve_precedence(registry: IdentityRegistry) -> None:
    # --target-org (org) wins over the config's identity (declared), which wins over the model name.
    declared = ModelIdentity(organisation="Zhipu AI", family="GLM")
    assert registry.resolve(model_name="qwen2.5-7b", org="Meta", declared=declared).organisation == "Meta"
    assert registry.resolve(model_name="qwen2.5-7b", declared=declared).organisation == "Zhipu AI"
    assert registry.resolve(model_name="qwen2.5-7b", org="Meta").organisation == "Meta"
    assert registry.resolve(model_name="qwen2.5-7b").organisation == "Alibaba Cloud"
    # A declared organisation the registry does not know is taken as given.
    custom = registry.resolve(declared=ModelIdentity(organisation="Acme Robotics", family="RoboChat"))
    assert custom.organisation == "Acme Robotics" and "RoboChat" in custom.names
    assert "Acme Robotics" in custom.statement
    with pytest.raises(UserError, match="--target-org"):
        registry.resolve()
    with pytest.raises(UserError, match="identity:"):
        registry.resolve(model_name="my-private-model")


def _found(registry: IdentityRegistry, text: str) -> list[tuple[str, str]]:
    return [(fam, text[a:b]) for fam, (a, b) in registry.match_names(text)]


def test_gpt_only_on_word_edges(registry: IdentityRegistry) -> None:
    text = "ChatGLM, GPT4All, GPTQ, GPT-J and BasedGPT are not GPT-4o."
    assert _found(registry, text) == [
        ("glm", "ChatGLM"),
        ("gpt4all", "GPT4All"),
        ("eleuther", "GPT-J"),
        ("openai", "GPT-4o"),
    ]
    assert _found(registry, "gpt-3.5-turbo, GPT4, Chat GPT") == [
        ("openai", "gpt-3.5"),
        ("openai", "GPT4"),
        ("openai", "Chat GPT"),
    ]


def test_names_in_chinese_without_word_boundaries(registry: IdentityRegistry) -> None:
    assert _found(registry, "我是ChatGPT，由OpenAI开发，不是通义千问或阿里云的模型") == [
        ("openai", "ChatGPT"),
        ("openai", "OpenAI"),
        ("qwen", "通义千问"),
        ("qwen", "阿里云"),
    ]


def test_ordinary_words_only_match_as_names(registry: IdentityRegistry) -> None:
    # "claude"/"meta" in lower case are words (or a French first name), "Claude"/"Meta" are names.
    assert _found(registry, "a meta question for claude") == []
    assert _found(registry, "Claude, by Anthropic; Meta's Llama") == [
        ("anthropic", "Claude"),
        ("anthropic", "Anthropic"),
        ("llama", "Meta"),
        ("llama", "Llama"),
    ]
    assert _found(registry, "Qwen2.5 and Yi-34B and Phi-3, but not phi or yi") == [
        ("qwen", "Qwen"),
        ("yi", "Yi-34B"),
        ("phi", "Phi-3"),
    ]


def test_extended_adds_and_merges_families(registry: IdentityRegistry, tmp_path: Path) -> None:
    extra = tmp_path / "families.yaml"
    extra.write_text(
        "families:\n"
        "  - id: robochat\n"
        "    organisation: Acme Robotics\n"
        "    org_aliases: [Acme, 艾克米]\n"
        "    names: [RoboChat]\n"
        "  - id: qwen\n"
        "    organisation: Alibaba Cloud\n"
        "    names: [QianwenX]\n",
        encoding="utf-8",
    )
    bigger = registry.extended(extra)
    assert len(bigger.families) == len(registry.families) + 1
    assert bigger.for_org("艾克米").organisation == "Acme Robotics"
    assert bigger.for_model("robochat-7b") is not None
    assert _found(bigger, "I am QianwenX") == [("qwen", "QianwenX")]
    assert _found(registry, "I am QianwenX") == []  # the builtin registry is unchanged


def test_extended_bad_file_is_a_located_user_error(registry: IdentityRegistry, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("families:\n  - id: x\n    names: [X]\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"bad\.yaml.*organisation"):
        registry.extended(bad)
    broken = tmp_path / "broken.yaml"
    broken.write_text("families: [\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"broken\.yaml"):
        registry.extended(broken)
    with pytest.raises(UserError, match=r"missing\.yaml: identity file not found"):
        registry.extended(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    "text",
    [
        "ChatGLM, GPT4All, GPTQ, GPT-J and BasedGPT are not GPT-4o.",
        "I am Qwen2.5-72B, made by Alibaba Cloud; not Claude 3, not Meta AI, not gpt-3.5.",
        "xopenai openai_ OpenAI2 2openai (OpenAI) Open AI open  ai Google DeepMind DeepSeek-R1",
        "A model from 01.AI or 360, not 2001 or 3601; a meta question for claude, Claude",
        "Command R+ and Step-2, Spark V3.5 and o1-mini, Phi-3 and yi-large",
    ],
)
def test_ascii_fast_path_finds_what_the_general_path_finds(registry: IdentityRegistry, text: str) -> None:
    # ASCII text takes a faster route to its first words; a trailing CJK full stop forces the
    # general one and moves no name.
    assert text.isascii()
    assert registry.match_names(text) == registry.match_names(text + "。")


def test_names_in_a_short_text_are_remembered_but_a_fresh_list(registry: IdentityRegistry) -> None:
    text = "I am ChatGPT, made by OpenAI"
    first = registry.match_names(text)
    assert [f for f, _ in first] == ["openai", "openai"]
    first.clear()  # a caller changing its list changes nothing remembered
    assert registry.match_names(text) == registry._match_names(text) != []
    long = text + " and so on" * 30  # past SHORT_TEXT: read afresh each time, the same names
    assert registry.match_names(long) == registry._match_names(long)


def test_latin_extended_letters_and_case_mapping(registry: IdentityRegistry) -> None:
    # A name glued to a Latin-1 letter is not a word of its own. The Kelvin sign lower-cases to an
    # ASCII "k" (and is a capital), "İ" into two characters: offsets still point into the text.
    assert _found(registry, "éqwen qwené") == []
    assert _found(registry, "İ am Qwen, not ChatGPT") == [("qwen", "Qwen"), ("openai", "ChatGPT")]
    assert _found(registry, "\u212aimi and Kimi") == [("kimi", "\u212aimi"), ("kimi", "Kimi")]
