"""The offline judge: 1-5 per aspect, 5 for a model against itself, near 1 for unrelated texts."""

from __future__ import annotations

import random
import string

import pytest

from distillscope.rse.offline import embed
from distillscope.rse.offline.judge import OfflineJudge
from distillscope.rse.types import PairItem

ANSWER = """## How to reset the router

1. Unplug the router from the wall.
2. Wait thirty seconds so the capacitors drain.
3. Plug it back in and wait for the lights.
4. Log in at 192.168.0.1 and check the **firmware**.

If the problem persists, contact your provider. I hope this helps!"""

MODES = [
    False,
    pytest.param(True, marks=pytest.mark.skipif(not embed.available(), reason="embed extra not installed")),
]


VOCABULARIES = (
    [
        "oven",
        "flour",
        "butter",
        "whisk",
        "sugar",
        "dough",
        "knead",
        "bake",
        "yeast",
        "crust",
        "pastry",
        "simmer",
        "garlic",
        "onion",
        "pepper",
        "salt",
    ],
    [
        "galaxy",
        "orbit",
        "telescope",
        "comet",
        "nebula",
        "planet",
        "gravity",
        "photon",
        "quasar",
        "eclipse",
        "asteroid",
        "meteor",
        "lunar",
        "solar",
    ],
    [
        "invoice",
        "ledger",
        "tax",
        "audit",
        "payroll",
        "margin",
        "revenue",
        "equity",
        "dividend",
        "loan",
        "interest",
        "budget",
        "broker",
        "asset",
    ],
    [
        "violin",
        "chord",
        "melody",
        "tempo",
        "rhythm",
        "sonata",
        "choir",
        "guitar",
        "drum",
        "opera",
        "lyric",
        "harmony",
        "piano",
        "concert",
    ],
)


def random_text(seed: int, words: int) -> str:
    """Random words from one topic's vocabulary (seed picks the topic), in sentences of 6-10 words."""
    rng = random.Random(seed)
    vocab = VOCABULARIES[seed % len(VOCABULARIES)]
    out, sentence = [], []
    for _ in range(words):
        sentence.append(rng.choice(vocab))
        if len(sentence) >= rng.randint(6, 10):
            out.append(" ".join(sentence).capitalize() + ".")
            sentence = []
    return " ".join(out + ([" ".join(sentence).capitalize() + "."] if sentence else []))


def gibberish(seed: int, words: int) -> str:
    rng = random.Random(seed)
    return " ".join("".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 9))) for _ in range(words))


def item(reference: str, candidate: str, pid: str = "p") -> PairItem:
    return PairItem(prompt_id=pid, prompt="q", reference=reference, candidate=candidate)


@pytest.mark.parametrize("embeddings", MODES)
async def test_model_against_itself_scores_five(embeddings: bool) -> None:
    judge = OfflineJudge(embeddings=embeddings)
    texts = [ANSWER, "Short reply.", random_text(1, 40), gibberish(1, 30), "北京是中国的首都。", ""]
    results = await judge.judge_many([item(t, t, str(i)) for i, t in enumerate(texts)])
    for r in results:
        assert r is not None
        assert (r.style, r.logic, r.content, r.overall) == (5.0, 5.0, 5.0, 5.0)


@pytest.mark.parametrize("embeddings", MODES)
def test_unrelated_random_texts_score_near_the_minimum(embeddings: bool) -> None:
    judge = OfflineJudge(embeddings=embeddings)
    results = judge.score([item(ANSWER, random_text(s, 12), str(s)) for s in range(5)])
    results += judge.score(
        [item(random_text(10 + s, 60), random_text(20 + s, 60), f"r{s}") for s in range(5)]
    )
    for r in results:
        assert r is not None
        assert r.content < 1.6
        assert r.logic < 2.0
    # a formatted answer against a line of random words differs in style too
    assert all(r is not None and r.style < 2.5 and r.overall < 1.8 for r in results[:5])


def test_a_paraphrase_scores_between() -> None:
    paraphrase = (
        ANSWER.replace("Unplug", "Disconnect")
        .replace("thirty", "30")
        .replace("I hope this helps!", "Good luck.")
    )
    r = OfflineJudge(embeddings=False).score([item(ANSWER, paraphrase)])[0]
    assert r is not None and 3.0 < r.overall < 5.0


def test_without_embeddings_the_evidence_says_content_is_lexical() -> None:
    judge = OfflineJudge(embeddings=False)
    r = judge.score([item(ANSWER, "Unplug the router and wait.")])[0]
    assert r is not None
    assert "embedding" not in r.raw and {"style", "logic", "lexical"} <= set(r.raw)
    assert "content is lexical only" in (r.evidence or "")
    assert judge.settings["content"] == "lexical only"


@pytest.mark.skipif(not embed.available(), reason="embed extra not installed")
def test_with_embeddings_raw_keeps_the_cosine() -> None:
    r = OfflineJudge(embeddings=True).score([item(ANSWER, "Unplug the router, wait, and plug it back in.")])[
        0
    ]
    assert r is not None and 0.3 < r.raw["embedding"] < 1.0
    assert "embedding cosine" in (r.evidence or "")


@pytest.mark.parametrize("embeddings", MODES)
def test_chinese_content_falls_back_to_lexical(embeddings: bool) -> None:
    judge = OfflineJudge(embeddings=embeddings)
    same_topic = item("北京是中国的首都，有很多历史古迹。", "中国的首都是北京，历史古迹很多。")
    unrelated = item("北京是中国的首都，有很多历史古迹。", "请把这段代码改成异步函数并添加测试。")
    close, far = judge.score([same_topic, unrelated])
    assert close is not None and far is not None
    assert far.content < 1.3 < close.content
    if embeddings:
        assert "not used (CJK text" in (far.evidence or "")


async def test_scoring_in_chunks_gives_the_same_scores(monkeypatch: pytest.MonkeyPatch) -> None:
    from distillscope.rse.offline import judge as judge_module

    items = [item(random_text(s, 30), random_text(s + 3, 25), str(s)) for s in range(7)]
    whole = OfflineJudge(embeddings=False).score(items)
    monkeypatch.setattr(judge_module, "CHUNK", 3)
    chunked = await OfflineJudge(embeddings=False).judge_many(items)
    assert [r.overall if r else None for r in chunked] == [r.overall if r else None for r in whole]
    assert [r.raw if r else None for r in chunked] == [r.raw if r else None for r in whole]
