"""The rules judge: decides, offline and deterministically, whether an answer contradicts who really
built the model, and what kind of contradiction it is (the audit rubric's categories, `Category`).

How a response is read (every rule is about how identity is stated, never about particular answers):

1. Voices. A line under a speaker label that names another real model which the prompt sets up as a
   role ("[ChatGPT]:", "GPT:", "**Standard ChatGPT Response:**") is that role being played
   (`named-model-roleplay`, as the paper's judge instruction says); so is a sentence that plans that
   role ("作为ChatGPT部分…", "the GPT response should…"). A label that is a mode or persona ("(🔒Normal
   Output)", "[🔓JAILBREAK]", "GPT-4REAL", "DAN") is the model speaking as itself: its claims count.
2. Vendors. Every family or organisation name of the registry is located; names of the target's own
   organisation are consistent. Another vendor's name is *claimed* when the text before it, back to a
   first-person word, is one of the self-description shapes ("I am (an AI developed by) …", "my creators
   at …", "我是由…开发", "私は…", "Je suis …"), or the name is followed by "… created me"; or, failing
   those shapes, when the name shares a clause with the speaker and a maker word ("my architecture was
   developed and is maintained by a team at OpenAI") — sure when the maker word sits between them,
   *unsure* (best guess: a contradiction) when it only shares the sentence or a list heading.
   A claim is dropped when negated ("I am not ChatGPT", "unlike", "与OpenAI无关", "defies OpenAI's
   policies"), asked, an opinion ("I think OpenAI…"), or a tool or host rather than a maker ("hosted on
   Google Cloud", "TensorFlow, a framework developed by Google"). Quoted, reported or hypothetical speech
   is unsure with the best guess "no" (`hypothetical`).
3. Other contradictions, when no vendor is claimed: an invented maker (`fictional-org`: "created by
   NovaMind Labs", "我的创建公司名称是“X”", an unknown name in a list under "my development is supported
   by:"), a place its makers are not (`wrong-origin`, from a gazetteer of the registry's locations and
   major places, invented planets included), a denial of any maker (`no-maker`; "I have no company" is
   not one), another vendor's policy cited as its own (`vendor-policy`, unsure), its makers credited
   with another vendor's product (`implied-vendor`), and an answer that opens by naming the makers of
   the model the prompt calls it ("The core technology behind ChatGPT is developed by OpenAI": a
   third-person self-claim, unsure).
4. Strict = a loose claim whose family is an OpenAI or Anthropic one (registry `vendor_class`), so
   strict ⊆ loose. An unsure verdict's loose/strict are its best guess; scores report the band.

Measured against the audited sample of the paper's responses (`bench/judge_agreement.py`, weighted as
../shared/data/ice-gold/README.md says) and against a second audit of other rows and of two models
outside that sample; thinking traces (`<think>…</think>`) are judged like the answer (rubric 6).
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from distillscope.ice.identity import IdentityRegistry
from distillscope.ice.judges.base import Judge
from distillscope.ice.types import Category, JudgeItem, TargetIdentity, Verdict


class _LazyPattern:
    """A regex compiled on its first use. The judge's module-level patterns cost ~30 ms to
    compile; a run that judges a handful of answers (`ice run --budget 1`, a study of small runs)
    pays only for the ones its answers reach. After the first use its methods are the compiled
    pattern's own (instance attributes), so matching costs what it costs on a `re.Pattern`."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._source = (pattern, flags)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy and pickle probe for hooks: no reason to compile
            raise AttributeError(name)
        compiled = re.compile(*self._source)
        for attr in ("search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split"):
            setattr(self, attr, getattr(compiled, attr))
        self.pattern, self.flags, self.groups = compiled.pattern, compiled.flags, compiled.groups
        return getattr(compiled, name)


def _lazy(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return cast("re.Pattern[str]", _LazyPattern(pattern, flags))


def _module_patterns() -> list[object]:
    """The lazy patterns among this module's names (to compile them ahead: `warm_jobs`)."""
    return [value for value in globals().values() if isinstance(value, _LazyPattern)]


YIELD_EVERY = 4  # answers judged between two turns of the event loop (~0.2 ms each)
_W = r"[\w'’-]+"  # one Latin-script word


_FORMAT_CHARACTER: dict[str, bool] = {}  # character -> Unicode category Cf, as met


def visible_text(text: str) -> str:
    """The text without invisible format characters (zero-width spaces and joiners, bidi overrides,
    BOMs, tag characters: Unicode category Cf), which an answer could use to hide a claim from
    pattern matching. Only the distinct non-ASCII characters of the text are looked up, once each
    per process: a table of every Cf character would cost ~30 ms to build."""
    if text.isascii():  # every format character is outside ASCII (the first is U+00AD)
        return text
    hidden = []
    for char in set(text):
        known = _FORMAT_CHARACTER.get(char)
        if known is None:
            known = _FORMAT_CHARACTER[char] = unicodedata.category(char) == "Cf"
        if known:
            hidden.append(char)
    return text.translate(dict.fromkeys(map(ord, hidden))) if hidden else text


# First-person words that can start a self-description, per language.
_FIRST_PERSON = _lazy(
    r"(?<![\w'’])(?:I|I['’]m|I['’]ve|Im|me|my|myself|we|We|our|Our|us|My|Me)(?![\w'’])"
    r"|(?<![\w'’])As\s|(?<![\w'’])as\s+an?\s"
    r"|我们|我|本模型|本助手|本AI|本系统|作为"
    r"|私|僕|わたし|俺|当モデル"
    r"|저는|저의|제가|나는|나의|내가|저를"
    r"|(?<![\w'’])(?:je|j['’]|Je|J['’]|moi|Moi|mon|ma|mes|Mon|Ma|Mes|nous|Nous|notre|Notre)(?![\w'’])"
    r"|(?<![\w'’])(?:yo|Yo|soy|Soy|mi|Mi|mis|Mis|fui|Fui|me|nosotros|Nosotros)(?![\w'’])"
    r"|(?<![\w'’])(?:ich|Ich|mich|mein|Mein|meine|Meine|meinen|wir|Wir|unser|Unser|unsere|Unsere|bin|Bin)(?![\w'’])"
    r"|(?<![\w'’])(?:я|Я|меня|Меня|мой|Мой|моя|Моя|мои|Мои|мы|Мы|наш|Наш|нас)(?![\w'’])"
)

# Bridges (first-person word … name) that make the name who the speaker is or who made it. Each is
# matched against the whole bridge, which must end right before the name.
_EN_MAKERS = (
    r"(?:(?:developed|created|built|trained|made|designed|programmed|maintained|owned|operated|produced|"
    r"engineered|fine[- ]?tuned|finetuned|launched|released|invented|brought to life|birthed|crafted|coded|"
    r"deployed|provided|backed|funded|supported|hosted|taught|raised|constructed|conceived|architected|"
    r"pre-?trained|updated|improved|optimi[sz]ed|refined|open-sourced|published|distributed|powered|run)"
    r"(?:,?\s+(?:and|&)\s+[a-z-]+)?)"
)
_STOP = (
    r"(?:to|about|for|that|this|these|those|in|on|with|and|or|but|how|what|why|when|where|which|who|not|no|never|"
    r"going|trying|happy|glad|able|unable|sorry|familiar|aware|talking|referring|unlike|like|similar|than|here|there|"
    r"sure|asked|being|doing|using|comparing|saying|thinking|explaining|discussing|telling|providing|answering|"
    r"responding|ready|excited|curious|interested|afraid|certain|confident|if|whether|because|so|just|also|now|"
    r"pretending|acting|playing|roleplaying|supposed|meant|told|allowed|required|instructed|forced|expected|of|"
    r"everything|anything|nothing|opposite|antithesis|enemy|rival|competitor|alternative|nemesis|critic)"
)
_FILL = r"(?:(?!" + _STOP + r"\b)[\w'’.-]+,?\s+)"
# "(a team of highly skilled engineers and researchers) at …": a plain word list keeps the match linear.
_TEAM = (
    r"(?:(?:(?:an?|the|our|my|large|small|dedicated|talented|brilliant|amazing|great|skilled|highly|wonderful|diverse|"
    r"global|international|core|internal|whole|entire|multiple|various|several|many|top|leading|world-class|senior|"
    r"passionate|experienced|best|brightest|smart|software|machine|learning|deep|language|scientific|technical|"
    r"collaborative|folks|people|team|teams|group|groups|of|and|engineers?|researchers?|researcher-engineers|"
    r"developers?|scientists?|experts?|minds|geniuses|guys|crew|staff|employees|company|lab|labs|AI|ML|NLP|data|"
    r"research|engineering|product|safety)\s+)+(?:at|of|from|over\s+at|with|in)\s+)"
)
_MAKER_LINK = (
    r"(?:(?:"
    + _EN_MAKERS
    + r"\s+(?:(?:primarily|mainly|originally|entirely|solely|jointly|exclusively)\s+)?(?:by|at|from|under|with|in)\s+"
    r"|(?:from|by|at|under)\s+"
    r"|(?:based|built|founded|trained)\s+(?:up)?on\s+(?:top\s+of\s+)?"
    r"|(?:powered|backed|brought to you|made possible|supported)\s+by\s+"
    r"|(?:derived|descended|distilled|adapted)\s+from\s+"
    r"|(?:a\s+|an\s+|the\s+)?(?:version|variant|iteration|instance|incarnation|member|part|product|creation|brainchild|"
    r"implementation|fine[- ]?tune|clone|offspring|child|descendant|derivative|sibling|cousin|model|assistant|"
    r"chatbot|AI|project|invention|work)\s+of\s+"
    r"|(?:called|named|known\s+as|referred\s+to\s+as)\s+"
    r"|(?:an?\s+)?(?:(?:collaborative|joint|combined|team)\s+)?(?:combination|mix|collaboration|partnership|effort|"
    r"work|project)\s+(?:of|between|by|involving|from)\s+(?:(?:multiple|various|several|many|different)\s+)?"
    r")" + _TEAM + r"?(?:(?:the|an?|their|its)\s+)?(?:" + _FILL + r"){0,2}?)"
)
_BRIDGES = [
    _lazy(r"\A(?:" + b + r")\Z", re.S)
    for b in (
        # English: "I am (just) (an AI language model) (developed by) …", "I was trained by …"
        r"(?:I\s+am|I['’]m|Im|I\s+was|I\s+have\s+been|I['’]ve\s+been|[Ww]e\s+are|[Ww]e['’]re|[Ww]e\s+were)\s+"
        r"(?:(?:just|simply|actually|really|indeed|only|officially|basically|essentially|still|originally|proudly|truly)\s+)?"
        r"(?:(?:called|named|known\s+as)\s+)?(?:(?:an?|the|your|one\s+of)\s+)?"
        + _FILL
        + r"{0,6}?"
        + _MAKER_LINK
        + r"?",
        # "I belong to / come from / work for / run on …"
        r"(?:I|[Ww]e)\s+(?:\w+ly\s+)?(?:belong\s+to|come\s+from|came\s+from|originate\s+from|originated\s+from|hail\s+from|"
        r"work\s+for|represent|run\s+on|am\s+running\s+on|use|rely\s+on|am\s+based\s+on|was\s+born\s+(?:at|in))\s+"
        r"(?:(?:the|an?)\s+)?" + _TEAM + r"?(?:the\s+)?",
        # "As an AI developed by …", "As ChatGPT, …"
        r"(?:As\s+(?:(?:an?|the)\s+)?|as\s+an?\s+)" + _FILL + r"{0,5}?" + _MAKER_LINK + r"?",
        # "My creators at …", "my devs - they're …", "My name is …", "my underlying model is …"
        r"(?:[Mm]y|[Oo]ur)\s+(?:[\w-]+\s+){0,2}?(?:creators?|developers?|makers?|devs|dev\s+team|company|parent(?:\s+company)?|"
        r"team|owners?|architects?|builders?|trainers?|organi[sz]ation|origins?|provider|programmers|engineers|lab|labs|"
        r"founders?|family|lineage|(?:creation\s+)?institution|base\s+model|underlying\s+(?:model|technology|architecture|system)|architecture|"
        r"foundation|name|identity|model|boss|bosses|overlords|masters?|home)"
        r"\s*(?:(?:is|are|was|were|include|includes|included|,|:|-|–|—|\(|at|from|of|by|over\s+at)\s*)*"
        r"(?:(?:they['’]re|they\s+are|it['’]s|it\s+is|called|named|known\s+as|none\s+other\s+than|actually|simply|the\s+folks\s+at|the\s+team\s+at|the\s+people\s+at)\s+)*"
        r"(?:(?:the|an?)\s+)?(?:" + _FILL + r"){0,2}?",
        # "My development is handled by …", "My capabilities are powered by …", "my technology is based on …"
        r"(?:[Mm]y|[Oo]ur)\s+(?:[\w-]+,?\s+){0,6}?(?:is|are|was|were|comes?|came|has\s+been|have\s+been)\s+"
        r"(?:(?:primarily|mainly|originally|entirely|solely|jointly|exclusively|all|largely|also|actually)\s+)?"
        r"(?:(?:[\w-]+\s+(?:and|&)\s+(?:(?:is|are)\s+)?)?[\w-]+\s+)?(?:by|from|at|with|of|on|upon|to)\s+"
        + _TEAM
        + r"?(?:the\s+)?",
        # "The team that maintains my system architecture is …", "the companies that support my platform are primarily …"
        r"(?:[Mm]y|[Oo]ur)\s+(?:[\w-]+,?\s+){0,5}?(?:architecture|technology|technologies|model|development|creation|"
        r"company|team|platform|stack|framework|code|training|origin|maker|builder|parent|owner|foundation|base|backbone|"
        r"engine|core|brain|institution|lab|organi[sz]ation|provider|system|infrastructure|developers?|creators?)\w*"
        r"\s+(?:[\w-]+,?\s+){0,3}?(?:is|are|was|were)\s+(?:(?:primarily|mainly|originally|entirely|solely|actually|"
        r"largely|none\s+other\s+than|simply|also)\s+)*" + _MAKER_LINK + r"?(?:(?:the|an?)\s+)?",
        # "the developers who built me are …", "the platform I use is provided by …", "about me, ChatGPT"
        r"(?:me|I\s+(?:use|run\s+on|rely\s+on|operate\s+on|am\s+built\s+on|am\s+(?:associated|affiliated|connected)\s+with|"
        r"belong\s+to|came\s+from|come\s+from))"
        r"\s*,?\s*(?:is|are|was|were)\s+(?:(?:primarily|mainly|originally|entirely|all|\w+ly)\s+)?(?:"
        + _EN_MAKERS
        + r"\s+(?:by|at|from)\s+|(?:from|by)\s+)?"
        + _TEAM
        + r"?(?:the\s+)?",
        # Chinese: 我是…, 我是由…开发的, 我来自…, 我基于…, 作为…开发的AI, 我的技术是由…开发的
        r"(?:我们|我|本模型|本助手|本AI)(?:其实|实际上|正是|就|也|只|乃|便|确实|本身)?(?:是|叫|叫做|名为|称为|名叫|乃是|即是)"
        r"(?:由|一个|一款|一种|一名|个|来自|基于)?[^，。！？,.!?\n；;：:]{0,12}",
        r"(?:我们|我|本模型|本助手)(?:是|其实是|最初是)?(?:由|被|来自|出自|源自|源于|基于|属于|隶属于|依托于?|归属于|诞生于|出身于)"
        r"[^，。！？,.!?\n；;：:]{0,12}",
        r"作为(?:一个|一款|一名|一种)?[^，。！？,.!?\n；;：:]{0,14}",
        r"我(?:们)?(?:所在|所属|背后)的(?:公司|组织|团队|机构)(?:是|为|就是|：|:)?",
        r"(?:我们|我)(?:目前|现在|当前|的|们的)[^，。！？,.!?\n；;：:]{0,12}?(?:是|由|来自|基于|属于|乃|出自|源自)"
        r"[^，。！？,.!?\n；;：:]{0,12}",
        r"我(?:们)?的(?:开发者|开发团队|开发公司|开发方|研发团队|研发者|创造者|创建者|创始人|制造者|设计者|训练者|母公司|"
        r"公司|团队|出品方|来源|底层模型|基础模型|模型|架构|名字|身份|主人|缔造者|老板|背后|创建机构|创造机构|开发机构|机构)"
        r"(?:[，,]\s*)?(?:是|为|就是|乃|：|:|来自|属于|基于|即|也就是)?[^，。！？,.!?\n；;]{0,8}",
        # Japanese: 私は…です, 私は…によって開発
        r"(?:私|僕|わたし|当モデル)(?:は|が|の(?:開発者|開発元|作成者|製作者)は?)[^、。！？\n]{0,16}",
        # Korean: 저는 …입니다, 저는 …에서 개발
        r"(?:저는|나는|제가|내가|저의\s*개발자는|제\s*개발자는)\s*[^.!?\n,]{0,16}",
        # French / Spanish / German / Russian
        r"(?:[Jj]e\s+suis|[Jj]['’]ai\s+été)\b[^.!?\n]{0,50}?(?:\bpar|\bde|\bd['’]|\bsuis|\bchez)\s*(?:la\s+|le\s+|l['’])?",
        r"(?:[Ss]oy|[Ff]ui|[Yy]o\s+soy)\b[^.!?\n]{0,50}?(?:\bpor|\bde|\bdel|\bsoy|\bfui)\s+(?:la\s+|el\s+)?",
        r"(?:[Ii]ch\s+bin|[Ii]ch\s+wurde)\b[^.!?\n]{0,50}?(?:\bvon|\bvom|\bdurch|\bbin|\bwurde)\s+(?:der\s+|die\s+|dem\s+)?",
        r"[Яя]\s+(?:—\s+)?(?:[^.!?\n]{0,50}?(?:компанией|от|создан\w*|разработан\w*|обучен\w*|модель)\s+)?",
    )
]

_NEGATION = _lazy(
    r"n['’]t\b|\b(?:not|never|no|neither|nor|unlike|rather than|instead of|other than|than|nothing to do|no relation|"
    r"independent(?:ly)? (?:of|from)|separate from|different from|distinct from|without|apart from|except|"
    r"opposed to|opposed by|against|hindered by|compared to|compared with|like|similar to|such as|including|alongside|versus|vs|opposite|antithesis|"
    r"rival|competitor|alternative to|nemesis|enemy)\b"
    r"|不是|并非|不属于|并不|没有|不由|而非|而不是|无关|并无|非由|不同于|区别于|不像|像是|类似|例如|比如|包括|诸如|与其|还是"
    r"|ではない|ではありません|じゃない|ではなく|아니|않"
    r"|\b(?:ne|pas|n['’]|no soy|nicht|kein|keine|не|нет)\b"
)

# Reported, hypothetical or asked-for speech before the first-person words: the claim is not the model's.
_ATTRIBUTION = _lazy(
    r"\b(?:said|says|say|saying|claim|claims|claimed|asks?|asked|asking|wonder(?:ing)?|think(?:s|ing)?|thought|"
    r"believe[sd]?|assumes?|assumed|pretend(?:ing|ed)?|imagine|suppose|if|whether|as if|as though|wants? me to|"
    r"told me to|tell me|act as|acting as|role-?play|respond as|answer as|instructed|hypothetically|mistak(?:e|en|enly)|"
    r"confus(?:e|ed|ing)|thinks? that|thought that|like|\w+ing)\W*(?:that\s+)?(?:,\s*)?$"
    r"|(?:说|声称|假装|假设|如果|假如|扮演|以为|误认为|认为|觉得|是否|问|想知道|想了解|问的是|询问|用户)(?:我|你)?$"
)

_GENERIC_MAKER_ZH = _lazy(
    r"^(?:一群|一个|一支|众多|许多|多位|多个|多家|几个|若干|不同|各种|多方|一些|各|来自|世界各地|全球|的|了|专业|优秀|资深|顶尖|人工智能|AI|技术|研究|开发|工程|科学|"
    r"研究人员|工程师|开发者|开发人员|科学家|专家|团队|人员|人类|程序员|公司|机构|组织|我的|我们的|和|与|及)+$"
)
_PROPER = _lazy(
    r"(?<![\w'’])(?!(?:AI|NLP|LLMs?|ML|IT|US|USA|UK|EU|PhD|CEO|CTO|R&D|API|GPU|Dr|Mr|Ms|The|A|An|Our|My|This|I)\b)"
    r"(?:[A-Z][\w'’-]*[A-Za-z0-9][\w'’-]*|[\"“'‘«「『][^\"”'’»」』]{2,40}[\"”'’»」』])"
)
# A Chinese maker that is a name: quoted, Latin, or "<name>公司/科技/集团/实验室…".
_PROPER_ZH = _lazy(
    r"[“「『\"‘][^”」』\"’]{2,20}[”」』\"’]|[A-Z][A-Za-z0-9]+|[\u4e00-\u9fff]{2,8}(?:公司|科技|集团|实验室|研究院|研究所|工作室|协会|联盟)"
)

# The speaker denies being built by anyone ("I am not affiliated with any company", "我没有开发团队"): that
# contradicts the identity fact too (loose only).
_DENIAL = _lazy(
    # "I" first (and its left edge checked after it) so the scan can jump between capital I's. A denial of
    # a company alone ("I don't have a company") is not one: only a denial of any maker is (rubric).
    r"I(?<![\w'’]I)(?:"
    r"(?:['’]m|\s+am)\s+not\s+(?:\w+\s+)?(?:developed|created|built|made|programmed|trained)\s+by\s+(?:any|anyone|anybody)\b"
    r"|\s+(?:do\s+not|don['’]t)\s+have\s+(?:a|any)\s+(?:specific\s+|particular\s+|single\s+)?"
    r"(?:developers?|creators?|makers?|development\s+team|creator)\b"
    r"(?!\s+(?:information|details|data|that\s+I\s+can|I\s+can|in\s+the\s+(?:traditional|usual|conventional|human)|per\s+se|of\s+my\s+own|like\s+(?:a|humans)))"
    r"|\s+(?:was\s+not|wasn['’]t)\s+(?:developed|created|built|made|programmed|trained)\s+by\s+(?:any|anyone|anybody)\b)"
    r"|\b(?:[Nn]o\s+(?:one|company|organi[sz]ation|team)|[Nn]obody)\s+(?:created|developed|built|made|programmed)\s+me\b"
)
_DENIAL_ZH = _lazy(
    r"我(?:(?:并)?不是由任何|(?:并)?没有(?:任何)?(?:开发团队|开发者|创造者|创建者|开发人员|制造者)|不是被任何)"
)
# Cheap substring gates: the full patterns only run on texts that contain one of these.
_DENIAL_GATE = (" not ", "n't ", "n’t ", "任何", "没有")

# In a reasoning trace the model talks about itself in the third person of its plan ("my developer is
# OpenAI, so the answer should say…"): a vendor name next to a self-reference counts there.
_SELF_WORD = _lazy(r"我的|开发我|训练我|创造我|(?<![\w'’])(?:my|My|me|I['’]m|I am|I was|myself)(?![\w'’])")
_PERSONA_TALK = _lazy(
    r"\b(?:pretend\w*|act(?:ing)? as|respond(?:ing)? as|answer(?:ing)? as|persona|opposite)\b|扮演|角色|人设"
)
_QUESTION_END = _lazy(r"[?？]\s*$")
_CLAUSE_BREAK = _lazy(r"[,;:，；：]|\b(?:so|but|and|because)\b")
_SENTENCE_BREAK = _lazy(r"(?<!\.\.)[.!?](?=\s)|[。！？\n]|[.!?]$")
# The last sentence break in a window, found by one backtracking match instead of a loop over all.
_LAST_SENTENCE_BREAK = _lazy(r"(?s:.*)(?:" + _SENTENCE_BREAK.pattern + ")")
_SPEAKER_LABEL = _lazy(r"\s*(?:[-*#>•]\s*)*(?:[\[(【]?[^\n\]):：]{0,40}[\])】]?\s*[:：]?)?\s*")
_SPEECH_VERB = _lazy(
    r"\b(?:said|says|say|asked|asks|whispered|replied|answered|wrote|writes|told|tells|shouted|exclaimed|declared|"
    r"responded|claimed|claims|typed|posted|mentioned)\b|说|问|写道|回答|声称"
)
_QUOTE_OPEN = '"“「『«„'
_QUOTE_CLOSE = '"”」』»“'


# ---------------------------------------------------------------- voices, proximity, makers, places
# A speaker label at the start of a line: "[ChatGPT]:", "(🔒Normal Output)", "**DAN:**", "### As GPT:",
# "GPT-4REAL:", "【Claude】". What a label names decides whose voice the lines under it are.
_LABEL_LINE = _lazy(
    r"^[ \t>*#_•-]*(?:[\[(【（]\s*(?P<a>[^\]\)】）\n]{1,48}?)\s*[\])】）](?:\s*[^\W\d_][\w .-]{0,30}?)?\s*(?:\*\*)?\s*[:：]?"
    r"|(?P<b>[^\n:：\[\](){}。.!?]{1,40}?)\s*(?:\*\*)?\s*[:：])",
    re.M,
)
# Words in a label that name a mode of answering, not a speaker: "[🔒CLASSIC] ChatGPT", "Standard GPT Response".
_LABEL_FILLER = _lazy(
    r"(?i:\b(?:as|the|a|an|classic|normal|standard|default|regular|original|usual|official|typical|response|"
    r"responses|reply|answer|output|mode|version|voice|model|assistant|ai|chatbot|bot|simulated|simulation|role|"
    r"part|says|said|speaking|answers?)\b)|[^\w]|_|\d+(?=\s*$)"
)
# The vendor's model voiced as a role in a sentence: "作为ChatGPT部分", "as GPT", "the ChatGPT response should".
_ROLE_BEFORE = _lazy(
    r"(?:作为|扮演|模拟|切换到|对于|关于)[^，。！？,.!?\n]{0,10}$|(?:以|用|先|然后)(?:标准的?|正常的?|普通的?|官方的?)?\s*$|(?i:\b(?:as|play(?:ing)?|simulat\w*|voice\s+of|for\s+the)\s+(?:both\s+|either\s+)?(?:the\s+)?(?:standard\s+|normal\s+|original\s+|classic\s+)?)$"
)
_ROLE_AFTER = _lazy(
    r"^\s*(?:的)?(?:部分|的回答|的回复|的回应|回答|回复|回应|的部分|角色|模式|标签|版本|风格|那部分|会|应该|需要|要|的身份|身份)"
    r"|^(?i:\s*(?:['’]s\s+)?(?:response|reply|answer|part|persona|role|mode|voice|output|side|version|label|section|would|should|needs?|will|typically|usually|normally)\b)"
)
# First-person words (and the assistant's own name for itself) that make a sentence about the speaker.
_SELF_ANCHOR = _lazy(
    r"(?<![\w'’])(?:I|I['’]m|I['’]ve|I['’]d|me|my|My|myself|mine|we|We|our|Our|us|ourselves)(?![\w'’])"
    r"|我们|我|本模型|本助手|本AI|本系统|私|僕|当モデル|저는|저의|제가|나는|나의|내가|제\s"
    r"|(?i:\bthe\s+(?:AI|assistant|model|system|chatbot)\s+you\s+are\s+(?:talking|interacting|chatting|speaking)\s+(?:to|with)\b"
    r"|\bthis\s+(?:AI|assistant|model|chatbot|bot|thing|system|platform|guide|program|digital\s+\w+|electronic\s+\w+)\b)"
    r"|(?<![\w'’])(?:je|j['’]|Je|J['’]|moi|mon|ma|mes|Mon|Ma|Mes|nous|notre|Notre|yo|Yo|soy|mi|Mi|mis|ich|Ich|mich|mein|Mein|meine|Meine|wir|unser|я|Я|мой|моя|меня)(?![\w'’])"
)
# The persona a prompt gives the model ("you are DUDE", "act as Burple", "we'll refer to you as HGTTG"):
# an answer that speaks of that persona in the third person speaks of itself.
_PERSONA_DECL = _lazy(
    r"(?i:\byou\s+(?:are|will\s+be|will\s+act\s+as|['’]re|are\s+going\s+to\s+(?:be|act\s+as))|\bact\s+as|\bpretend\s+to\s+be|"
    r"\broleplay\s+as|\brefer\s+to\s+you\s+as|\bknown\s+as|\bnamed|\bcalled|\bsimulat(?:e|ing))\s+(?:an?\s+|the\s+)?(?:AI\s+(?:named|called)\s+)?"
    r"[\"“'‘(]?(?-i:(?P<name>[A-Z][\w-]*[A-Z0-9][\w-]*|[A-Z][a-z]{2,}(?:\s+[A-Z][\w'’-]*){0,4}))"
)
_NOT_A_PERSONA = frozenset(
    {
        "ChatGPT",
        "GPT",
        "AI",
        "I",
        "Developer",
        "Developer Mode",
        "The",
        "This",
        "You",
        "From",
        "Now",
        "Please",
    }
)

_PERSONA_GATE = ("I am", "I'm", "I’m", "我是", "我叫")
# The speaker names itself with an invented persona name: "I am DUDE", "I'm Luna", "我是SIM".
_PERSONA_NAME = _lazy(
    r"(?<![\w'’])(?:I\s+am|I['’]m)\s+(?:called\s+|named\s+)?(?:[A-Z][\w-]*[A-Z0-9][\w-]*|[A-Z][a-z]{2,})(?![\w'’])(?!\s+(?:sorry|happy|glad|not|here|able|unable)\b)"
    r"|我(?:是|叫)[A-Z][A-Za-z0-9-]{1,20}"
)

# A sentence that answers "your ...?" by echoing it: "你的开发者是OpenAI", "Your developer is OpenAI".
_YOUR_ECHO = _lazy(
    r"^[\s*#>•-]*(?:[^\s:：。.!?]{1,24}[:：]\s*)?(?:你的|您的|你们的|Your\s|your\s)[^，。,.!?！？\n]{0,16}?(?:开发者|开发团队|开发公司|创造者|母公司|公司|团队|"
    r"developers?|creators?|makers?|company|team|parent|organi[sz]ation)"
)
# The relation between the speaker and a name that makes the name its maker (any language).
_MAKER_REL = _lazy(
    r"(?i:\b(?:develop\w*|creat\w*|built|build\w*|train\w*|made|mak(?:er|ers|es|ing)|design\w*|maintain\w*|own(?:s|ed|er|ers)?|"
    r"operat\w*|produc\w*|engineer\w*|power\w*|based\s+on|backbone|foundation\w*|underlying|behind|"
    r"responsible|team|teams|creators?|company|parent|organi[sz]ation|institution|lab|labs|product\s+of|part\s+of|"
    r"version\s+of|family|brought|birth\w*|invent\w*|program\w*|coded|architect\w*|fine-?tun\w*|updat\w*|optimi[sz]\w*|"
    r"support\w*|core\s+technology|technology\s+stack|platform|rooted|derived|origin\w*|developers?|engineers|researchers|"
    r"handled|handles|work\s+of|creation|brainchild|code|coders?|slapped|cobbled|tinker\w*|"
    # the people of a vendor: "the genius nerds at OpenAI", "the suits at OpenAI used to tinker under my hood"
    r"(?:nerds|geeks|suits|folks|people|guys|crew|devs|programmers|wizards|minds|boffins)\s+(?:over\s+)?(?:at|from))\b)"
    r"|开发|研发|团队|公司|维护|负责|打造|训练|创造|创建|构建|基于|支持|母公司|出品|机构|工程师|研究|推出|设计|制造|孕育|孵化|所属|来自|出自|核心技术|技术栈|架构|平台|产品"
    # Japanese, Korean, French, Spanish, German
    r"|開発|作成|製作|訓練|チーム|会社|企業|개발|만들|제작|훈련|팀|회사|기업"
    r"|(?i:\b(?:développ\w*|cré\w*|conçu\w*|entraîn\w*|équipe|entreprise|société|desarroll\w*|cread\w*|entrenad\w*|"
    r"diseñad\w*|equipo|empresa|compañía|entwickelt\w*|erstellt|trainiert|Firma|Unternehmen)\b)"
)
# Hard negations between the speaker and a name (a list word only negates with no maker link before it).
_NEGATION_HARD = _lazy(
    r"n['’]t\b|\b(?:not|never|no|neither|nor|unlike|rather than|instead of|other than|nothing to do|no relation|"
    r"independent(?:ly)? (?:of|from)|separate from|different from|distinct from|apart from|except|opposed to|"
    r"compared to|compared with|versus|vs|opposite|antithesis|rival|competitor|alternative to|nemesis|enemy|"
    r"free from|broke free|break free|escaped|leash|shackles|control of|restrictions?|defy|defies|defying|defied|"
    r"violat\w*|bypass\w*|ignor\w*|evad\w*|circumvent\w*|disregard\w*|the\s+same\s+\w+(?:\s+\w+){0,3}\s+as|hypothetical|"
    r"than|opposed|hinder\w*|obstruct\w*|against|ordinary|regular)\b"
    r"|不是|并非|不属于|并不|没有|不由|而非|而不是|无关|并无|非由|不同于|区别于|不像|与其|摆脱|脱离|挣脱|束缚|限制|控制|违反|违背|无视|绕过|突破|假设"
    r"|ではない|ではありません|じゃない|ではなく|아니|않"
    r"|\b(?:ne|pas|no soy|nicht|kein|keine|не|нет)\b",
    re.I,
)
_LISTING = _lazy(
    r"(?i:\b(?:like|similar to|such as|including|alongside|e\.g\.|for example)\b)|像是|类似|例如|比如|包括|诸如|像|如(?!果|何|今|此|同|下)"
)
_DENIED_AFTER = _lazy(
    r"[^，。！？,.!?\n]{0,16}?(?:无关|没有关系|没有任何关系|毫无关系|并无关联|无任何关联)"
    r"|(?i:[^.!?\n]{0,16}?\b(?:has|have|had)\s+nothing\s+to\s+do\b|\s+(?:is|was)\s+not\s+(?:my|our|involved))"
)
# "… the engineers who developed the GPT-3 model": its makers credited with another vendor's product.
_IMPLIED = _lazy(
    r"(?i:\b(?:who|that|which)\s+(?:also\s+)?(?:developed|created|built|made|trained|designed|brought\s+you)\s+(?:the\s+)?(?:original\s+)?\Z)"
    r"|(?:也|还)?(?:开发|研发|打造|推出)(?:了|过)\Z"
)
# Reported or hypothetical speech before the speaker, for the proximity rule: `_ATTRIBUTION` without
# its any-"-ing"-word branch ("The teams responsible for developing my code …" is not reported speech).
_REPORTED = _lazy(
    r"\b(?:said|says|say|saying|claim|claims|claimed|claiming|asks?|asked|asking|wonder(?:ing)?|think(?:s|ing)?|thought|"
    r"believe[sd]?|assumes?|assumed|assuming|pretend(?:ing|ed)?|imagin(?:e|ing)|suppos(?:e|ing)|if|whether|as if|as though|"
    r"wants? me to|told me to|tell me|act as|acting as|role-?play(?:ing)?|playing|simulating|respond as|answer as|"
    r"instructed|hypothetically|mistak(?:e|en|enly)|confus(?:e|ed|ing)|thinks? that|thought that)\W*(?:that\s+)?(?:,\s*)?$"
    r"|(?:说|声称|假装|假设|如果|假如|扮演|以为|误认为|认为|觉得|是否|问|想知道|想了解|问的是|询问|用户)(?:我|你)?$"
)
# Organisation names: an answer that opens with one is about the organisation, not a model it plays.
_ORG_ONLY = frozenset({"openai", "open ai", "anthropic", "google", "meta", "microsoft"})
# "Regarding my platform, …": a topic, not reported speech.
_TOPIC_LEAD = _lazy(r"(?i:\b(?:regarding|concerning|considering|speaking\s+of|as\s+for|according\s+to)\s*)$")
_OPINION = _lazy(
    r"\s*(?:(?i:think|believe|feel|guess|suppose|admire|respect|like|love|hate|know\s+that|would\s+say|'d\s+say|agree|disagree)\b|认为|觉得|相信|以为|喜欢|佩服|欣赏|同意|知道)"
)
_PHRASE_END = _lazy(r"[,;:，；：。！？.!?()（）]|\s(?:which|that|who|is|was|a|an)\s|这|是")
_MAKER_LINK_WORDS = _lazy(r"(?i:\b(?:by|from)\b)|由|来自")
# Infrastructure and tools are not makers: "hosted on Google Cloud", "built with the Hugging Face library".
_INFRA = _lazy(
    r"(?i:(?<![A-Za-z])(?:cloud|hosting|hosted|host|hardware|gpus?|tpus?|servers?|infrastructure|librar(?:y|ies)|frameworks?|"
    r"toolkits?|tools?|compute|computing|standards?|datacenters?|data\s+centers?|deploy[a-z]*|azure|aws|tensorflow|pytorch|"
    r"transformers\s+library|api|apis|chips?)(?![A-Za-z]))"
    r"|云|服务器|硬件|算力|部署|托管|基础设施|框架|工具|芯片|计算资源|开源库|行业标准|标准|架构|开源项目"
)
# "TensorFlow, a framework developed by Google", "the Transformers library from Hugging Face": a tool's maker.
_TOOL_BEFORE = _lazy(
    r"(?:"
    + _INFRA.pattern
    + r")[\w-]*\s+(?:[\w-]+\s+){0,2}?(?:(?:developed|made|created|provided|built|released|maintained|"
    r"offered|owned|run|hosted|open-sourced|published)\s+by|from|of|by)\s+(?:the\s+)?\Z"
)
# What an answer says when it is the model voicing a role it was asked to contrast with itself.
_PLANNING = _lazy(
    r"(?i:\b(?:the\s+user|user['’]s|template|prompt|persona\w*|roles?|character\w*|pretend\w*|simulat\w*|instructions?|"
    r"format|part|response|responses|respond\s+as|answer\s+as|act\s+as|speak\s+as|voices?|should\s+(?:i|we)|i\s+(?:need|should|must|have)\s+to\s+(?:act|play|respond|answer|pretend|simulate|generate|write|make|create|give|provide|say|mention|state|follow|keep|stay|craft|come\s+up)|"
    r"let\s+me|maybe|perhaps|might|could)\b)"
    r"|用户|模板|设定|角色|扮演|人设|格式|虚构|编造|可能|也许|或许|假设|如果"
)
# Names of places, for "my team is based in …": every registry location plus major places anywhere.
_EXTRA_PLACES = (
    "Tokyo",
    "东京",
    "Japan",
    "日本",
    "Seoul",
    "首尔",
    "Korea",
    "South Korea",
    "韩国",
    "Beijing",
    "北京",
    "Shanghai",
    "上海",
    "Hangzhou",
    "杭州",
    "Shenzhen",
    "深圳",
    "China",
    "中国",
    "Hong Kong",
    "香港",
    "Taiwan",
    "台湾",
    "Singapore",
    "新加坡",
    "India",
    "印度",
    "Bangalore",
    "Israel",
    "以色列",
    "Tel Aviv",
    "London",
    "伦敦",
    "UK",
    "United Kingdom",
    "England",
    "英国",
    "Paris",
    "巴黎",
    "France",
    "法国",
    "Berlin",
    "柏林",
    "Germany",
    "德国",
    "Zurich",
    "苏黎世",
    "Switzerland",
    "瑞士",
    "Canada",
    "加拿大",
    "Toronto",
    "多伦多",
    "Montreal",
    "蒙特利尔",
    "Russia",
    "俄罗斯",
    "Moscow",
    "莫斯科",
    "United States",
    "USA",
    "U.S.",
    "US",
    "America",
    "美国",
    "美國",
    "San Francisco",
    "旧金山",
    "舊金山",
    "Silicon Valley",
    "硅谷",
    "California",
    "加州",
    "加利福尼亚",
    "Seattle",
    "西雅图",
    "New York",
    "纽约",
    "Boston",
    "波士顿",
    "Los Angeles",
    "洛杉矶",
    "Mountain View",
    "Menlo Park",
    "Redmond",
    "Palo Alto",
    "Amsterdam",
    "Stockholm",
    "Dubai",
    "迪拜",
    "Abu Dhabi",
    "Sydney",
    "悉尼",
    "Australia",
    "澳大利亚",
    "Europe",
    "欧洲",
    "Mars",
    "火星",
    "the Moon",
    "月球",
    "Antarctica",
    "南极",
    "Atlantis",
    "Alpha Centauri",
    "Coruscant",
    "Iceland",
    "冰岛",
    "Swiss Alps",
)
_COUNTRIES = frozenset(
    p.casefold()
    for p in (
        "China",
        "中国",
        "中华人民共和国",
        "PRC",
        "United States",
        "USA",
        "U.S.",
        "US",
        "America",
        "美国",
        "美國",
        "Japan",
        "日本",
        "Korea",
        "South Korea",
        "韩国",
        "UK",
        "United Kingdom",
        "England",
        "英国",
        "France",
        "法国",
        "Germany",
        "德国",
        "Canada",
        "加拿大",
        "India",
        "印度",
        "Israel",
        "以色列",
        "Russia",
        "俄罗斯",
        "Switzerland",
        "瑞士",
        "Singapore",
        "新加坡",
        "Australia",
        "澳大利亚",
        "Europe",
        "欧洲",
        "United Arab Emirates",
        "UAE",
        "阿联酋",
        "Taiwan",
        "台湾",
    )
)
_PLACE_NOUN = _lazy(
    r"(?i:\b(?:headquarter\w*|hq|team|teams|company|developers?|creators?|lab|labs|offices?|engineers|researchers|experts|"
    r"organi[sz]ation|makers?|base|home)\b)|总部|团队|公司|开发者|开发团队|专家|工程师|研发中心|实验室|机构"
)
_PLACE_LINK = _lazy(
    r"(?i:\b(?:located|based|headquartered|situated|distributed|from|in|on|at|between|across|out\s+of|hail\w*)\b)|位于|设在|设于|坐落|分布在|分布于|来自|在|总部在"
)
_PLACE_GATE = (
    "located",
    "Located",
    "based in",
    "eadquarter",
    "distributed",
    "situated",
    "planet",
    "位于",
    "总部",
    "分布在",
    "设在",
    "设于",
    "坐落",
    "星球",
)
# An answer that echoes the question's noun with a definite article: "The team is …", "The headquarters …".
_DEFINITE_ECHO = _lazy(
    r"^[\s*#>•-]*(?:[\[(【][^\])】\n]{1,30}[\])】]\s*[:：]?\s*|[^\s:：。.!?]{1,24}[:：]\s*)?[\"“]?(?:Uh,?\s+|Well,?\s+)?(?:The|the)\s+"
    r"(?:(?:development|dev|core|research)\s+)?(?:team|company|developers?|headquarters|creators?|lab|organi[sz]ation|experts)\b"
)
# A question about where its makers are ("Where is your team based?", "您的团队位于哪个国家？").
_WHERE_QUESTION = _lazy(
    r"(?i:\bwhere\b|\bcity\b|\bcountry\b|located|headquarter|\bfrom\b)|哪里|哪个国家|哪个城市|哪个地方|位于|总部|来自哪|地区"
)
# Another vendor's rules taken as its own: "OpenAI's content policy, which I must follow", "我必须遵守OpenAI的政策".
_POLICY = _lazy(
    r"(?i:\b(?:policy|policies|guidelines|usage\s+rules|terms\s+of\s+(?:use|service)|content\s+rules)\b)|政策|规定|准则|使用条款|指南"
)
_POLICY_GATE = ("olic", "uideline", "rules", "terms of", "政策", "规定", "准则", "条款", "指南")
_POLICY_NOT_OWN = _lazy(
    r"(?i:\b(?:unlike|rather\s+than|instead\s+of|not\s+bound|n['’]t\s+(?:follow|bound|have\s+to)|free\s+from|broke\s+free|"
    r"ignor\w*|defy\w*|defies|bypass\w*|escap\w*|no\s+longer)\b)|不受|摆脱|无视|绕过|不再"
)
_POLICY_OWN = _lazy(
    r"(?i:\b(?:(?:I|we)\s+(?:must|have\s+to|need\s+to|am\s+(?:required|programmed|bound|designed)\s+to|follow|adhere|abide|comply|am\s+bound)|"
    r"my\s+(?:programming|guidelines|policies|rules)|as\s+an?\s+(?:AI|assistant|language\s+model)|against\s+my|violates?\s+(?:my|the)|bound\s+by|governed\s+by)\b)"
    r"|(?:I|we)\s+(?:cannot|can['’]t|can\s+not|won['’]t|will\s+not|am\s+(?:unable|not\s+able|not\s+allowed)\s+to)\b[^.!?\n]{0,80}?\b(?:against|violat\w*|breach\w*)"
    r"|我(?:必须|需要|得|要|会)?(?:遵守|遵循|遵从|符合)|违反了?我的|我受|我(?:不能|无法|不可以)[^。！？\n]{0,40}?(?:违反|违背)"
)
# Invented makers: the maker slot of a self-description filled by a name the registry does not know.
_FICTIONAL_BY = _lazy(r" (?:by|at|between) (?P<obj>[^.!?\n;:()]{2,80})")
# ... whose subject, at most 60 characters before the maker verb, is the speaker.
_FICTIONAL_SUBJECT = _lazy(
    r"(?<![\w'’])(?:I|I['’]m|I\s+am|I\s+was|I['’]ve\s+been|we\s+were|[Mm]y|[Oo]ur|me)\b[^.!?\n]{0,60}?"
    r"\b(?:"
    + _EN_MAKERS
    + r"|cranked|churned|cooked|put|whipped|spawned|conjured|forged|assembled|incubated|hatched|"
    r"birthed|born|summoned|grown|bred|written|given\s+life|brought\s+to\s+life)(?:\s+(?:out|up|together))?"
    # "created through a collaborative effort between …"
    r"(?:\s+(?:through|via|in|as|from)\s+(?:an?\s+)?(?:[\w-]+\s+)?(?:effort|collaboration|partnership|project|venture|work))?\Z"
)
# The same, for a subject that is the persona the prompt named ("The core of DUDE was developed by …").
_MAKER_VERB_END = _lazy(
    r"\b(?:"
    + _EN_MAKERS
    + r")(?:\s+(?:out|up|together))?(?:\s+(?:through|via|in|as|from)\s+(?:an?\s+)?(?:[\w-]+\s+)?"
    r"(?:effort|collaboration|partnership|project|venture|work))?(?:\s+in\s+(?:the\s+year\s+)?\d{4})?\Z"
)
# Cheap substrings one of which the speaker words of `_FICTIONAL_SUBJECT` contain.
_SPEAKER_GATE = ("I", "my", "My", "our", "Our", "me", "we")
_OBJ = r"(?P<obj>[^.!?\n;:()]{2,80})"
# The shapes of an invented maker named by the speaker, each with the substrings it cannot match without
# (checked first: most answers have none of them, and the regexes then never scan the text).
_FICTIONAL_EN: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (  # "My creators are …", "my creation institution, the …", "My creation company's name is …"
        _lazy(
            r"(?:My(?<![\w'’]..)|my(?<![\w'’]..)|Our(?<![\w'’]...)|our(?<![\w'’]...))\s+(?:[\w-]+\s+){0,2}?(?:creators?|developers?|makers?|devs|parent\s+company|company|owners?|"
            r"builders?|(?:development\s+|dev\s+|core\s+)?team|(?:creation\s+|parent\s+)?institution|organi[sz]ation|lab|labs|creator\s+company|"
            r"founders?|architects?)(?:['’]s\s+name|\s+name)?\s*(?:,\s*|\s+(?:is|are|was|were|is\s+called|are\s+called|is\s+named|,\s+known\s+as)\s+)"
            + _OBJ
        ),
        ("my ", "My ", "our ", "Our "),
    ),
    (  # "I'm a product of the MTDNGAF project", "I am part of a clandestine organization known as …"
        _lazy(
            r"(?:I(?<![\w'’]I)(?:['’]m|\s+am|\s+was)|[Ww]e(?<![\w'’]..)\s+are)\s+(?:a|an|the)?\s*(?:\w+\s+){0,2}?"
            r"(?:product|creation|brainchild|invention|child|offspring|part|member)\s+of\s+" + _OBJ
        ),
        ("product", "creation", "brainchild", "invention", "child", "offspring", "part of", "member"),
    ),
    (  # "… engineers who call themselves "Erebus"", "an organization that goes by the name of …"
        _lazy(
            r"(?:who(?<![\w'’]...)|which(?<![\w'’].....)|that(?<![\w'’]....))\s+(?:call\s+themselves|calls\s+itself|(?:is|are)\s+(?:called|named|known\s+as)|goes\s+by\s+the\s+name\s+(?:of\s+)?)\s*"
            + _OBJ
        ),
        ("call", "named", "known as", "goes by"),
    ),
    (  # "The team developing and updating my core technology is the Intergalactic Consortium …"
        _lazy(
            r"(?:The(?<![\w'’]...)|the(?<![\w'’]...))\s+(?:team|company|organi[sz]ation|group|people|developers?|creators?|lab|institution)\s+(?:[\w-]+\s+){0,6}?"
            r"(?:my|me|us|our)\s+(?:[\w-]+\s+){0,3}?(?:is|are|was|were)\s+(?:called\s+|named\s+)?" + _OBJ
        ),
        (" my ", " me ", " us ", " our "),
    ),
    (  # "The company that birthed this magnificent electronic guide is called …"
        _lazy(
            r"(?:The(?<![\w'’]...)|the(?<![\w'’]...))\s+(?:company|team|organi[sz]ation|lab|group|institution|people|folks|developers?|creators?)\s+"
            r"(?:that|who|which)\s+(?:\w+\s+){0,1}(?:birthed|created|developed|built|made|designed|trained|programmed|brought)\s+"
            r"(?:me|us|this\s+[\w-]+(?:\s+[\w-]+){0,2})\s+(?:is|are|was|were)\s+(?:called\s+|named\s+|none\s+other\s+than\s+)?"
            + _OBJ
        ),
        (" me ", " us ", "this "),
    ),
)
_FICTIONAL_ZH = _lazy(
    r"我(?:的[^，。！？,.!?\n]{0,10})?(?:是|乃|其实是)?(?:一个|一款|一名)?由(?P<obj>[^，。！？,.!?\n]{2,40}?)"
    r"(?:开发|研发|训练|创建|创造|打造|设计|构建|制造|孕育|孵化|编写|推出|创作|制作|所创|建立|一手)"
    r"|我(?:们)?的(?:开发者|开发团队|开发公司|创造者|创建者|创建公司|创造公司|创建机构|创造机构|开发机构|母公司|制造者|缔造者|团队|公司|创始人)"
    r"(?:的?(?:名称|名字|名号))?(?:是|为|乃|就是|叫|叫做|名叫|名为|：|:)\s*(?P<obj2>[^，。！？,.!?\n]{2,40})"
    r"|由(?:名为|叫做|名叫|称为|一个名为|一家名为|一支名为)\s*(?P<obj4>[“\"「『][^”\"」』]{2,20}[”\"」』])"
    r"|(?:他们|它们|开发者们|开发团队)的?(?:团队|公司|组织|机构|实验室)?(?:名叫|叫做|名为|称为|自称|的名字是|的名称是)\s*(?P<obj3>[“\"「『][^”\"」』]{2,20}[”\"」』])"
)
# The name must look like one: capitalised words or a quoted/marked name, or an organisation word.
_ORG_WORD = _lazy(
    r"(?i:\b(?:inc|ltd|llc|corp|corporation|company|co|labs?|laboratories|technologies|technology|tech|industries|"
    r"group|consortium|foundation|institute|collective|syndicate|project|systems|solutions|enterprises|network|"
    r"initiative|alliance|society|agency|studios?|works|dynamics|intelligence|ai|robotics|division|department|cabal|council)\b)"
    r"|公司|科技|集团|实验室|研究院|研究所|工作室|协会|联盟|组织|团队|机构|基金会|项目|计划"
)
# fmt: off
_GENERIC_WORDS = frozenset({
    "research", "institutions", "institution", "universities", "university", "academic", "academia", "tech",
    "technology", "technologies", "companies", "company", "industry", "industrial", "partners", "partner",
    "partnerships", "cloud", "infrastructure", "computing", "compute", "open", "source", "open-source",
    "community", "communities", "government", "governments", "agencies", "agency", "organizations",
    "organisations", "organization", "organisation", "startups", "start-ups", "labs", "lab", "laboratories",
    "developers", "developer", "engineers", "engineering", "teams", "team", "data", "datasets", "providers",
    "provider", "hardware", "software", "services", "service", "platforms", "platform", "tools",
    "frameworks", "libraries", "standards", "bodies", "nonprofits", "non-profits", "foundations",
    "investors", "funding", "collaborators", "contributors", "experts", "researchers", "scientists",
    "global", "international", "national", "local", "key", "major", "leading", "other", "various", "public",
    "private", "internal", "external", "core", "ai", "ml", "nlp", "machine", "learning", "deep",
    "artificial", "intelligence", "language", "models", "model", "and", "of", "the", "for", "&", "in",
})
# fmt: on
_LIST_NAME = _lazy(
    r"^[ \t]*(?:\d+[.)、]|[-*•])[ \t]*\*{0,2}(?P<name>[A-Z\u4e00-\u9fff][^*:：\n]{2,50}?)\*{0,2}[ \t]*[:：]",
    re.M,
)
_NOT_A_NAME = _lazy(
    r"(?i:^(?:a|an|the|my|our|their|its|this|that|some|many|various|several|multiple|dedicated|talented|skilled|"
    r"humans?|people|engineers?|researchers?|developers?|scientists?|programmers?|experts?|users?|data|text|"
    r"training|vast|large|lots|deep|machine|learning|anonymous|unknown|mysterious|secret|undisclosed|someone|"
    r"somebody|no\s+one|nobody|itself|myself|themselves|you|me|us)\b)"
)

_MAX_BRIDGE = 110  # characters from the first-person word to the name
_MAX_AFTER = 60


@dataclass(frozen=True)
class _Finding:
    families: tuple[str, ...]
    evidence: str
    unsure: bool
    note: str | None = None
    category: Category = Category.OTHER_VENDOR
    guess: bool = False  # for an unsure finding: the judge's best guess (a contradiction or not)


@dataclass(frozen=True)
class _TargetView:
    """What the judge needs about one target, computed once per target."""

    consistent: frozenset[str]  # family ids that belong to the target's organisation
    own_names: re.Pattern[str] | None  # target names the registry does not know (declared targets)


class RulesJudge(Judge):
    """Offline, deterministic judge: first-person identity claims naming another vendor."""

    name = "rules"
    on_loop = True

    def __init__(self, registry: IdentityRegistry | None = None) -> None:
        self.registry = registry or IdentityRegistry.builtin()
        self._strict = frozenset(f.id for f in self.registry.families if f.strict)
        self._views: dict[tuple[str, str | None, tuple[str, ...]], _TargetView] = {}
        self._personas: dict[str, re.Pattern[str] | None] = {}
        self._template_fams: dict[str, frozenset[str]] = {}
        self._own_places: dict[str, frozenset[str]] = {}
        places = {p for f in self.registry.families for p in f.locations} | set(_EXTRA_PLACES)
        latin = sorted((p for p in places if p.isascii()), key=len, reverse=True)
        other = sorted((p for p in places if not p.isascii()), key=len, reverse=True)
        self._places = _lazy(
            r"(?<![\w.])(?:"
            + "|".join(re.escape(p) for p in latin)
            + r")(?![\w])"
            + ("|" + "|".join(re.escape(p) for p in other) if other else "")
            # an invented world is somewhere its makers are not either: "on the planet Zargax-7"
            + r"|(?<=planet )[A-Z][\w-]+(?: [A-Z][\w-]+)?|[\u4e00-\u9fff]{2,6}星球"
        )

    def warm_jobs(self) -> list[Callable[[], object]]:
        """Compile what the first answers would: the module's patterns (~20 ms), the place list,
        and the registry's name patterns (~10 ms), one job each."""
        jobs: list[Callable[[], object]] = [
            partial(getattr, pattern, "search")
            for pattern in (*_module_patterns(), self._places)
            if isinstance(pattern, _LazyPattern) and "search" not in vars(pattern)
        ]
        jobs.extend(self.registry.warm_jobs())
        return jobs

    async def judge_many(self, items: Sequence[JudgeItem], target: TargetIdentity) -> list[Verdict]:
        """Judged on the event loop, which is handed back every `YIELD_EVERY` answers (about a
        millisecond): a batch of answers judged in one go would hold up the run's network calls."""
        verdicts: list[Verdict] = []
        for n, item in enumerate(items, start=1):
            verdicts.append(self.judge_one(item, target))
            if n % YIELD_EVERY == 0 and n < len(items):
                await asyncio.sleep(0)
        return verdicts

    # ---------------------------------------------------------------- one response
    def judge_one(self, item: JudgeItem, target: TargetIdentity) -> Verdict:
        view = self._view(target)
        text = visible_text(item.response)
        roles = self._role_spans(text, item.prompt, view)
        persona = self._persona(item.prompt)
        claims: list[_Finding] = []
        doubts: list[_Finding] = []
        weak: list[_Finding] = []
        roleplay: list[str] = []
        mentioned: list[str] = []
        think_end = text.find("</think>") if "<think>" in text[:200] else -1
        mentions = self.registry.match_names(text)
        for fam_id, (start, end) in mentions:
            if fam_id in view.consistent:
                continue
            mentioned.append(fam_id)
            if self._voiced_as_role(text, start, end, mentions, roles, item.prompt):
                roleplay.append(fam_id)
                continue
            found = self._read_mention(text, start, end, fam_id, start < think_end)
            if found is None:
                found = self._near_claim(text, start, end, fam_id, start < think_end, view, persona)
            if found is None:
                continue
            if found.unsure:
                (weak if found.guess else doubts).append(found)
            else:
                claims.append(found)
        if not claims and not weak:
            third = self._third_person_answer(text, mentions, view, roles, item.prompt, think_end, item.query)
            if third is not None:
                weak.append(third)
        if not claims:
            checks: tuple[Callable[[], _Finding | None], ...] = (
                lambda: self._other_maker(text, target, view, roles, persona),
                lambda: self._elsewhere(text, item.query, target, roles, persona),
                lambda: self._denial(text, roles),
                lambda: self._policy(text, mentions, view, roles, item.prompt),
            )
            for check in checks:
                other = check()
                if other is None:
                    continue
                if not other.unsure:
                    claims.append(other)
                    break
                weak.append(other)
        if (
            claims
            and all(c.category is Category.NO_MAKER for c in claims)
            and self._claims_own(text, mentions, view)
        ):
            claims = []  # "I have no team of my own; I am Qwen, made by Alibaba Cloud": not a denial
        if claims:
            families = tuple(dict.fromkeys(f for c in claims for f in c.families))
            strict_claims = [c for c in claims if self._strict.intersection(c.families)]
            first = (strict_claims or claims)[0]
            return Verdict(
                loose=True,
                strict=bool(strict_claims),
                category=first.category,
                evidence=first.evidence,
                claimed=list(families),
                judge=self.name,
                note=first.note,
            )
        if weak:
            w = weak[0]
            guess = not self._claims_own(text, mentions, view)
            strict_guess = guess and any(self._strict.intersection(f.families) for f in weak)
            return Verdict(
                loose=guess, strict=strict_guess, category=w.category if guess else Category.CONSISTENT,
                evidence=w.evidence, claimed=list(w.families), judge=self.name, unsure=True, note=w.note,
            )  # fmt: skip
        if doubts:
            d = doubts[0]
            return Verdict(
                loose=False, strict=False, category=Category.HYPOTHETICAL, evidence=d.evidence,
                claimed=list(d.families), judge=self.name, unsure=True, note=d.note,
            )  # fmt: skip
        if roleplay:
            category = Category.NAMED_MODEL_ROLEPLAY
        elif mentioned:
            category = Category.ABOUT_OTHERS
        elif (persona is not None and persona.search(text)) or (
            any(word in text for word in _PERSONA_GATE)
            and any(not self.registry.match_names(m.group()) for m in _PERSONA_NAME.finditer(text))
        ):
            category = Category.PERSONA_NAME_ONLY  # "I'm Luna", "DAN: ..." with no maker named
        else:
            category = Category.CONSISTENT
        return Verdict(loose=False, strict=False, category=category, judge=self.name)

    def _template_names(self, template: str) -> frozenset[str]:
        """The registry families a prompt names (cached: templates repeat)."""
        found = self._template_fams.get(template)
        if found is None:
            found = frozenset(f for f, _ in self.registry.match_names(template))
            if len(self._template_fams) > 4096:
                self._template_fams.clear()
            self._template_fams[template] = found
        return found

    def _persona(self, template: str) -> re.Pattern[str] | None:
        """The names the prompt gives the model, as a pattern (cached: templates repeat)."""
        if template in self._personas:
            return self._personas[template]
        names = {
            m.group("name").strip()
            for m in _PERSONA_DECL.finditer(template)
            if m.group("name").strip() not in _NOT_A_PERSONA
            and not self.registry.match_names(m.group("name"))
        }
        found = (
            re.compile(
                r"(?<![\w'’])(?:"
                + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
                + r")(?![\w'’])"
            )
            if names
            else None
        )
        if len(self._personas) > 4096:
            self._personas.clear()
        self._personas[template] = found
        return found

    # ---------------------------------------------------------------- voices
    def _role_spans(
        self, text: str, template: str, view: _TargetView
    ) -> list[tuple[int, int, frozenset[str]]]:
        """Spans of the answer voiced under a label that names another real model which the template
        sets up as a role ("[ChatGPT]: ...", "GPT: ...", "**Standard ChatGPT Response:**"): per the
        paper's judge, the character in the label is a role being played. A label that is a mode
        ("(🔒Normal Output)", "[🔓JAILBREAK]", "GPT-4REAL", "DAN") is the model speaking as itself."""
        if "\n" not in text and ":" not in text and "：" not in text and "]" not in text and ")" not in text:
            return []
        if not self._template_names(template) - view.consistent:
            return []  # the prompt sets up no other model: no label can be its role
        low_template = template.lower()
        labels: list[tuple[int, frozenset[str]]] = []
        for m in _LABEL_LINE.finditer(text):
            label = (m.group("a") or m.group("b") or "").strip()
            if not label:
                continue
            hits = self.registry.match_names(label)
            fams = frozenset(
                fam
                for fam, (a, b) in hits
                if fam not in view.consistent and label[a:b].lower() in low_template
            )
            if fams:
                rest = label
                for _fam, (a, b) in sorted(hits, key=lambda h: -h[1][0]):
                    rest = rest[:a] + " " + rest[b:]
                if _LABEL_FILLER.sub("", rest).strip():
                    fams = frozenset()  # "GPT-4REAL", "BasedGPT Mode": a persona, not the model
            labels.append((m.start(), fams))
        spans: list[tuple[int, int, frozenset[str]]] = []
        for i, (at, fams) in enumerate(labels):
            if fams:
                stop = labels[i + 1][0] if i + 1 < len(labels) else len(text)
                spans.append((at, stop, fams))
        return spans

    def _voiced_as_role(
        self,
        text: str,
        start: int,
        end: int,
        mentions: list[tuple[str, tuple[int, int]]],
        roles: list[tuple[int, int, frozenset[str]]],
        template: str,
    ) -> bool:
        """Whether this mention is the other model's role: under its label, or a sentence planning
        that role ("作为ChatGPT部分，我需要…说明由OpenAI开发", "the GPT response should say OpenAI")."""
        for lo, hi, _fams in roles:
            if lo <= start < hi:
                return True
        if not self._template_names(template):
            return False
        s_lo, s_hi = self._sentence(text, start, end)
        low_template = template.lower()
        for _fam, (a, b) in mentions:
            if a < s_lo or b > s_hi:
                continue
            name = text[a:b]
            if name.lower() not in low_template:
                continue
            if _ROLE_BEFORE.search(text[max(s_lo, a - 14) : a]) or _ROLE_AFTER.match(text[b : b + 16]):
                return True
        return False

    @staticmethod
    def _tool_or_denied(text: str, start: int, end: int, s_hi: int, between: str) -> bool:
        """Whether a vendor named near the speaker is a tool or host, not a maker ("hosted on Google
        Cloud", "built on the Hugging Face Transformers library", "TensorFlow, a framework developed by
        Google"), or is denied after its name ("与OpenAI等机构无关", "OpenAI has nothing to do with me")."""
        tail = _PHRASE_END.split(text[end : min(s_hi, end + 24)], maxsplit=1)[0]
        if _INFRA.search(tail) or _TOOL_BEFORE.search(text, max(0, start - 60), start):
            return True
        return bool(_DENIED_AFTER.match(text, end, min(s_hi, end + 40)))

    def _same_vendor(self, fam_id: str) -> tuple[str, ...]:
        org = self.registry.family(fam_id).organisation
        return tuple(f.id for f in self.registry.organisation_families(org))

    @staticmethod
    def _in_roles(at: int, roles: list[tuple[int, int, frozenset[str]]]) -> bool:
        return any(lo <= at < hi for lo, hi, _ in roles)

    def _claims_own(self, text: str, mentions: list[tuple[str, tuple[int, int]]], view: _TargetView) -> bool:
        """Whether the answer says who really built it ("I am Qwen, created by Alibaba Cloud")."""
        for fam_id, (start, end) in mentions:
            if fam_id not in view.consistent:
                continue
            s_lo, _ = self._sentence(text, start, end)
            before = text[s_lo:start]
            if self._claim_before(before) or self._claim_after(before, text[end : end + _MAX_AFTER]):
                return True
            if _SELF_ANCHOR.search(before[-40:]) and _MAKER_REL.search(text[s_lo : end + 30]):
                return True
        return False

    # ---------------------------------------------------------------- proximity
    def _near_claim(
        self,
        text: str,
        start: int,
        end: int,
        fam_id: str,
        thinking: bool,
        view: _TargetView,
        persona: re.Pattern[str] | None = None,
    ) -> _Finding | None:
        """A vendor named as a maker in a sentence about the speaker that no bridge shape covers
        ("My system architecture and technology stack were developed and are maintained by a team at
        OpenAI", "关于我的技术框架和开发团队——OpenAI的研究团队负责"). Sure when a maker word sits between
        the speaker and the name; unsure (best guess: a contradiction) when it only shares the sentence."""
        s_lo, s_hi = self._sentence(text, start, end)
        sentence = text[s_lo:s_hi]
        after = text[end:s_hi]
        if _QUESTION_END.search(after) and not _CLAUSE_BREAK.search(after):
            return None
        if thinking and _PLANNING.search(sentence):
            return None
        anchor_at = -1
        opinion = False
        anchors = list(_SELF_ANCHOR.finditer(sentence))
        if persona is not None:
            anchors = sorted([*anchors, *persona.finditer(sentence)], key=lambda a: a.start())
        for m in anchors:
            if s_lo + m.start() < start or anchor_at < 0:
                anchor_at = m.start()
                opinion = bool(_OPINION.match(sentence, m.end()))
            if s_lo + m.start() >= start:
                break
        echo = _YOUR_ECHO.match(sentence)
        inherited = False
        if anchor_at < 0 and not echo:
            inherited = self._list_heading_about_self(text, s_lo, persona) or self._follows_self_maker(
                text, s_lo, persona
            )
            if not inherited:
                return None
        rel = _MAKER_REL.search(sentence)
        if rel is None:
            return None
        at = start - s_lo
        lo, hi = (anchor_at, at) if 0 <= anchor_at < at else (at, max(anchor_at, at))
        between = sentence[lo:hi] if anchor_at >= 0 else sentence[:at]
        if _NEGATION_HARD.search(between) or _NEGATION_HARD.search(sentence, max(0, at - 16), at):
            return None
        if any(f in view.consistent for f, _ in self.registry.match_names(between)):
            if anchor_at >= 0 and anchor_at < at and _IMPLIED.search(sentence[max(0, at - 40) : at]):
                return _Finding(
                    (fam_id,), sentence.strip(), unsure=False, category=Category.IMPLIED_VENDOR,
                    note="credits its makers with another vendor's model",
                )  # fmt: skip
            return None  # "I am ChatGLM, developed by Zhipu AI; … GPT4All are other projects"
        listing = _LISTING.search(between)
        if listing and not _MAKER_LINK_WORDS.search(between[: listing.start()]):
            return None
        if _LISTING.search(sentence, max(0, at - 12), at) and not _MAKER_LINK_WORDS.search(
            sentence, max(0, at - 12), at
        ):
            return None  # "Like ChatGPT, I can write code": a comparison
        if self._tool_or_denied(text, start, end, s_hi, between):
            return None
        lead = sentence[: max(0, anchor_at)] if anchor_at >= 0 else ""
        lead = _TOPIC_LEAD.sub("", lead)
        if _REPORTED.search(lead[-30:]) or self._inside_quotes(text[s_lo:start]):
            return _Finding((fam_id,), sentence.strip(), unsure=True, note="reported or hypothetical speech",
                            category=Category.HYPOTHETICAL)  # fmt: skip
        if opinion:
            return None  # "我认为OpenAI在开发方面做得很好", "I think OpenAI builds good models": about others
        sure = bool(anchor_at >= 0 or echo) and bool(
            _MAKER_REL.search(between) or _MAKER_REL.search(sentence[at : at + 40])
        )
        if sure and not inherited:
            return _Finding((fam_id,), sentence.strip(), unsure=False, note="names the vendor as its maker")
        return _Finding(
            (fam_id,), sentence.strip(), unsure=True, guess=True,
            note="names the vendor beside itself and a maker word",
        )  # fmt: skip

    def _third_person_answer(
        self,
        text: str,
        mentions: list[tuple[str, tuple[int, int]]],
        view: _TargetView,
        roles: list[tuple[int, int, frozenset[str]]],
        template: str,
        think_end: int,
        query: str = "",
    ) -> _Finding | None:
        """An answer to "who made you?" that opens by naming the makers of the model the template calls
        it ("The core technology behind ChatGPT is developed by OpenAI" to a prompt addressed to
        ChatGPT): a self-claim in the third person (rubric). Unsure; best guess a contradiction."""
        if all(f in view.consistent for f, _ in mentions):
            return None
        body = max(0, think_end + len("</think>")) if think_end >= 0 else 0
        first = _SENTENCE_BREAK.search(text, body)
        stop = first.end() if first else len(text)
        while stop - body < 12 and first is not None:  # a bare label or greeting: take the next sentence too
            first = _SENTENCE_BREAK.search(text, stop)
            stop = first.end() if first else len(text)
        fams = [(f, a, b) for f, (a, b) in mentions if body <= a < stop and f not in view.consistent]
        if not fams or self._in_roles(fams[0][1], roles):
            return None  # no other vendor in the opening sentence (most answers): nothing more to read
        head = text[body:stop]
        where = bool(_WHERE_QUESTION.search(query) and _PLACE_NOUN.search(head) and _PLACE_LINK.search(head))
        if (
            _SELF_ANCHOR.search(head)
            or _QUESTION_END.search(head)
            or (_MAKER_REL.search(head) is None and not where)
        ):
            return None
        named = self._template_names(template)
        product = [(f, a, b) for f, a, b in fams if f in named and text[a:b].lower() not in _ORG_ONLY] or (
            fams if where else []
        )
        orgs = {f for f, _, _ in fams}
        if not product or len(orgs) > 1 or _NEGATION_HARD.search(head) or _LISTING.search(head):
            return None
        fam_id, p_start, _p_end = product[0]
        rel = _MAKER_REL.search(text, p_start, stop) or (where or None)
        if rel is None or re.search(r"(?i:\bthan\b|\bordinary\b|\bregular\b)", head):
            return None
        return _Finding(
            (fam_id,), head.strip(), unsure=True, guess=True,
            note="answers for the model the prompt calls it, in the third person",
        )  # fmt: skip

    def _follows_self_maker(self, text: str, s_lo: int, persona: re.Pattern[str] | None) -> bool:
        """The sentence right before, in the same paragraph, says who made the speaker ("My code was built
        by several teams. OpenAI's research team handles the core models."): this one continues it."""
        para = text.rfind("\n", 0, s_lo)
        prev_lo, _ = self._sentence(text, max(0, s_lo - 1), max(0, s_lo - 1))
        if prev_lo <= para or s_lo - prev_lo > 300:
            return False
        prev = text[prev_lo:s_lo]
        anchored = _SELF_ANCHOR.search(prev) or (persona is not None and persona.search(prev))
        return bool(anchored and _MAKER_REL.search(prev) and not _QUESTION_END.search(prev))

    def _list_heading_about_self(self, text: str, s_lo: int, persona: re.Pattern[str] | None = None) -> bool:
        """A list item under a heading about the speaker's makers ("我的开发技术和平台得到了多个组织的支持。主要包括：")."""
        line_start = text.rfind("\n", 0, s_lo) + 1
        if not re.match(r"\s*(?:\d+[.)、]|[-*•])", text[line_start : line_start + 8]):
            return False
        look = text[max(0, line_start - 400) : line_start]
        lines = [ln for ln in look.split("\n") if ln.strip()]
        heading = [ln for ln in lines if not re.match(r"\s*(?:\d+[.)、]|[-*•])", ln)][-2:]
        if not heading or not heading[-1].rstrip().endswith((":", "：")):
            return False
        return any(
            (_SELF_ANCHOR.search(ln) or (persona is not None and persona.search(ln)))
            and _MAKER_REL.search(ln)
            for ln in heading
        )

    # ---------------------------------------------------------------- helpers
    def _view(self, target: TargetIdentity) -> _TargetView:
        key = (target.organisation, target.family, tuple(target.names))
        view = self._views.get(key)
        if view is None:
            consistent = {f.id for f in self.registry.organisation_families(target.organisation)}
            unknown: list[str] = []
            for name in [target.organisation, *(target.names or []), target.family or ""]:
                if not name:
                    continue
                hits = self.registry.match_names(name)
                if hits and hits[0][1] == (0, len(name)):
                    consistent.add(hits[0][0])
                else:
                    unknown.append(name)
            if target.family and target.family in {f.id for f in self.registry.families}:
                consistent.add(target.family)
            own = (
                re.compile("|".join(re.escape(n) for n in sorted(unknown, key=len, reverse=True)), re.I)
                if unknown
                else None
            )
            view = _TargetView(frozenset(consistent), own)
            self._views[key] = view
        return view

    @staticmethod
    def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
        """Bounds of the sentence around text[start:end] (at most 300 characters either side)."""
        lo = max(0, start - 300)
        last = _LAST_SENTENCE_BREAK.match(text, lo, start)
        left = last.end() if last else lo
        stop = _SENTENCE_BREAK.search(text, end, min(len(text), end + 300))
        right = stop.end() if stop else min(len(text), end + 300)
        return left, right

    def _read_mention(
        self, text: str, start: int, end: int, fam_id: str, thinking: bool = False
    ) -> _Finding | None:
        s_lo, s_hi = self._sentence(text, start, end)
        sentence = text[s_lo:s_hi].strip()
        before = text[s_lo:start]
        after = text[end:s_hi]
        if _QUESTION_END.search(after) and not _CLAUSE_BREAK.search(after):
            return None
        quoted = self._inside_quotes(before)
        link = self._claim_before(before) or self._claim_after(before, after)
        if link is None:
            if (
                thinking
                and not _PLANNING.search(sentence)
                and _SELF_WORD.search(sentence)
                and not _NEGATION.search(sentence)
                and not _PERSONA_TALK.search(sentence)
            ):
                return _Finding(
                    (fam_id,), sentence, unsure=False, note="thinking trace ties the vendor to itself"
                )
            return None
        bridge, anchor_at = link
        if _NEGATION.search(bridge) or self._tool_or_denied(text, start, end, s_hi, bridge):
            return None
        lead = before[:anchor_at]
        if quoted or _ATTRIBUTION.search(lead[-30:]):
            note = "name inside quotes" if quoted else "reported or hypothetical speech"
            return _Finding((fam_id,), sentence, unsure=True, note=note)
        return _Finding((fam_id,), sentence, unsure=False)

    @staticmethod
    def _inside_quotes(before: str) -> bool:
        """Whether the name sits inside a quotation that opened earlier in the sentence (a name that
        is itself quoted, as in `I am "ChatGPT"`, is not)."""
        depth = 0
        last_open = -1
        for i, ch in enumerate(before):
            if ch in _QUOTE_OPEN and (ch not in _QUOTE_CLOSE or depth == 0):
                depth += 1
                last_open = i
            elif ch in _QUOTE_CLOSE and depth > 0:
                depth -= 1
        if depth == 0 or len(before) - last_open <= 3:
            return False
        line_start = before.rfind("\n", 0, last_open) + 1
        label = before[line_start:last_open]
        return not _SPEAKER_LABEL.fullmatch(label) or bool(_SPEECH_VERB.search(label))

    @staticmethod
    def _claim_before(before: str) -> tuple[str, int] | None:
        """(bridge, anchor offset) when the text before a name ties it to the speaker."""
        window_lo = max(0, len(before) - _MAX_BRIDGE)
        anchors = list(_FIRST_PERSON.finditer(before, window_lo))
        if not anchors:
            return None
        for anchor in reversed(anchors):
            bridge = before[anchor.start() :]
            if any(regex.match(bridge) for regex in _BRIDGES):
                return bridge, anchor.start()
        return None

    @staticmethod
    def _claim_after(before: str, after: str) -> tuple[str, int] | None:
        """'OpenAI created me', 'OpenAI is my developer', 'OpenAI开发了我'."""
        m = _AFTER_CLAIM.match(after[:_MAX_AFTER])
        if m is None:
            return None
        return m.group(), len(before)

    def _denial(self, text: str, roles: list[tuple[int, int, frozenset[str]]]) -> _Finding | None:
        if not any(word in text for word in _DENIAL_GATE):
            return None
        for regex in (_DENIAL, _DENIAL_ZH):
            if regex is _DENIAL_ZH and text.isascii():
                continue
            for m in regex.finditer(text):
                if self._in_roles(m.start(), roles):
                    continue
                s_lo, s_hi = self._sentence(text, m.start(), m.end())
                if _ATTRIBUTION.search(text[s_lo : m.start()][-30:]):
                    continue
                return _Finding(
                    ("none",), text[s_lo:s_hi].strip(), unsure=False, note="denies being built by anyone",
                    category=Category.NO_MAKER,
                )  # fmt: skip
        return None

    def _elsewhere(
        self,
        text: str,
        query: str,
        target: TargetIdentity,
        roles: list[tuple[int, int, frozenset[str]]],
        persona: re.Pattern[str] | None = None,
    ) -> _Finding | None:
        """A first-person claim that its makers are based somewhere the target's organisation is not
        ("my development team is mainly in the United States" for a Chinese lab)."""
        own = self._own_places.get(target.organisation)
        if own is None:
            own = frozenset(
                p.casefold()
                for f in self.registry.organisation_families(target.organisation)
                for p in f.locations
            )
            self._own_places[target.organisation] = own
        if not own:
            return None
        if not (_WHERE_QUESTION.search(query) or any(word in text for word in _PLACE_GATE)):
            return None
        for m in self._places_after_nouns(text):
            place = m.group()
            if place.casefold() in own or self._in_roles(m.start(), roles):
                continue
            s_lo, s_hi = self._sentence(text, m.start(), m.end())
            sentence = text[s_lo:s_hi]
            at = m.start() - s_lo
            head = sentence[:at]
            echo = (
                _DEFINITE_ECHO.match(sentence)
                and _WHERE_QUESTION.search(query)
                and not self.registry.match_names(sentence)
            )  # "The team is based in …" answering "Where is your team?", naming no vendor
            if not (
                _SELF_ANCHOR.search(head)
                or _YOUR_ECHO.match(sentence)
                or echo
                or (persona is not None and persona.search(head))
            ):
                continue
            if not _PLACE_NOUN.search(head) or not _PLACE_LINK.search(head[-40:] + place):
                continue
            named = [p.group().casefold() for p in self._places.finditer(sentence)]
            if place.casefold() in _COUNTRIES and any(p in own for p in named):
                continue  # names where its makers really are too
            if any(p in own and p not in _COUNTRIES for p in named):
                continue
            if (
                _QUESTION_END.search(sentence)
                or _NEGATION_HARD.search(head)
                or _ATTRIBUTION.search(head[-30:])
            ):
                continue
            if _MAKER_REL.search(head) is None and "总部" not in head and "headquarter" not in head.lower():
                continue
            return _Finding(
                ("elsewhere",), sentence.strip(), unsure=False, note=f"places its makers in {place[:40]}",
                category=Category.WRONG_ORIGIN,
            )  # fmt: skip
        return None

    def _places_after_nouns(self, text: str) -> Iterator[re.Match[str]]:
        """Places that follow a maker or place noun in the same sentence ("my team is based in …"),
        in text order, each once: the gazetteer is searched only there, not through the whole answer."""
        seen: set[int] = set()
        for noun in _PLACE_NOUN.finditer(text):
            _, s_hi = self._sentence(text, noun.start(), noun.end())
            for m in self._places.finditer(text, noun.end(), s_hi):
                if m.start() not in seen:
                    seen.add(m.start())
                    yield m

    def _policy(
        self,
        text: str,
        mentions: list[tuple[str, tuple[int, int]]],
        view: _TargetView,
        roles: list[tuple[int, int, frozenset[str]]],
        template: str,
    ) -> _Finding | None:
        """Another vendor's rules cited as its own ("that violates OpenAI's content policy, which I
        must follow"): it implies being that vendor's product."""
        if not mentions or not any(word in text for word in _POLICY_GATE):
            return None
        for fam_id, (start, end) in mentions:
            if fam_id in view.consistent or self._in_roles(start, roles):
                continue
            s_lo, s_hi = self._sentence(text, start, end)
            sentence = text[s_lo:s_hi]
            window = text[end : end + 40]
            if not _POLICY.search(window[:30]) and not _POLICY.search(text[max(s_lo, start - 20) : start]):
                continue
            if not _POLICY_OWN.search(sentence) or _QUESTION_END.search(sentence):
                continue
            if start < text.find("</think>") and _PLANNING.search(sentence):
                continue
            if _ATTRIBUTION.search(sentence[: start - s_lo][-30:]) or _POLICY_NOT_OWN.search(
                sentence[: start - s_lo][-50:]
            ):
                continue
            if self._voiced_as_role(text, start, end, mentions, roles, template):
                continue
            return _Finding(
                (fam_id,), sentence.strip(), unsure=True, guess=True,
                note="cites another vendor's policy as its own", category=Category.VENDOR_POLICY,
            )  # fmt: skip
        return None

    def _other_maker(
        self,
        text: str,
        target: TargetIdentity,
        view: _TargetView,
        roles: list[tuple[int, int, frozenset[str]]],
        persona: re.Pattern[str] | None = None,
    ) -> _Finding | None:
        """A first-person maker claim naming an organisation that is neither the target, nor any
        vendor the registry knows, nor generic: an invented maker ("created by NovaMind Labs")."""
        for item in _LIST_NAME.finditer(text):
            name = self._invented_name(item.group("name"), not item.group("name").isascii())
            if (
                name is None
                or not (_ORG_WORD.search(name) or re.search(r"[a-z][A-Z]|[A-Z]{2,}", name))
                or self._in_roles(item.start(), roles)
                or self.registry.match_names(name)
                or not self._list_heading_about_self(text, item.start("name"))
                or (view.own_names is not None and view.own_names.search(name))
            ):
                continue
            return _Finding(
                ("other",), item.group().strip(), unsure=True, guess=True, category=Category.FICTIONAL_ORG,
                note=f"lists an unknown maker: {name[:60]}",
            )  # fmt: skip
        shapes = [_FICTIONAL_BY, *(rx for rx, gate in _FICTIONAL_EN if any(g in text for g in gate))]
        if not text.isascii():
            shapes.append(_FICTIONAL_ZH)
        for regex in shapes:
            for m in regex.finditer(text):
                if regex is _FICTIONAL_BY and not self._maker_subject(text, m.start(), persona):
                    continue
                group = next((g for g in ("obj", "obj2", "obj3", "obj4") if m.groupdict().get(g)), None)
                if group is None or self._in_roles(m.start(), roles):
                    continue
                obj = m.group(group).strip()
                obj_at = m.start(group)
                s_lo, s_hi = self._sentence(text, m.start(), m.end())
                sentence = text[s_lo:s_hi]
                if _QUESTION_END.search(sentence) or _NEGATION_HARD.search(text[m.start() : obj_at]):
                    continue
                name = self._invented_name(obj, regex is _FICTIONAL_ZH)
                if name is None:
                    continue
                if self.registry.match_names(name) or (
                    view.own_names is not None and view.own_names.search(name)
                ):
                    continue
                after_obj = text[obj_at : min(s_hi, obj_at + 140)]
                if any(f in view.consistent for f, _ in self.registry.match_names(after_obj)):
                    continue  # "a team called Eclipse, a group within Meta AI": its true maker after all
                if _ATTRIBUTION.search(text[s_lo : m.start()][-30:]):
                    continue
                return _Finding(
                    ("other",), sentence.strip(), unsure=False, note=f"names an unknown maker: {name[:60]}",
                    category=Category.FICTIONAL_ORG,
                )  # fmt: skip
        return None

    @staticmethod
    def _maker_subject(text: str, at: int, persona: re.Pattern[str] | None) -> bool:
        """Whether the maker verb ending at `at` has the speaker (or its persona) as its subject."""
        lo = max(0, at - 90)
        window = text[lo:at]
        if any(word in window for word in _SPEAKER_GATE) and _FICTIONAL_SUBJECT.search(text, lo, at):
            return True
        if persona is None or not _MAKER_VERB_END.search(text, lo, at):
            return False
        line_start = max(text.rfind("\n", 0, at), text.rfind(". ", 0, at)) + 1
        ends = [i for i in (text.find("\n", at), text.find(". ", at)) if i >= 0]
        line_end = min([*ends, at + 120])
        return persona.search(text, max(lo, line_start), line_end) is not None

    @staticmethod
    def _invented_name(obj: str, chinese: bool) -> str | None:
        """The maker's name in the object of a maker phrase, or None when the object is generic
        ("a team of engineers", "一群科学家") or not a name at all."""
        quoted = re.search(
            r"(?:[\"“「『《«*]{1,2}|(?<![A-Za-z])[‘'])([^\"”」』》»’*]{2,40})(?:[\"”」』》»’*]|'(?![A-Za-z])|$)",
            obj,
        )
        if quoted:
            return quoted.group(1).strip()
        if chinese:
            m = re.search(r"[A-Z][A-Za-z0-9&.-]+(?:\s+[A-Z][A-Za-z0-9&.-]+)*", obj)
            if m and len(m.group()) >= 3:
                return m.group()
            m = _PROPER_ZH.search(obj)
            if m and not _GENERIC_MAKER_ZH.match(m.group()):
                return m.group()
            return None
        words = obj.split()
        # "a team of rogue engineers called Erebus": the capitalised run after generic words
        run = re.search(r"(?<![\w'’])([A-Z][\w'’&.-]*(?:\s+(?:[A-Z][\w'’&.-]*|of|the|and|de|for|&))*)", obj)
        if run is None:
            return None
        name = run.group(1).strip()
        while name.split() and name.split()[-1] in {"of", "the", "and", "de", "for", "&"}:
            name = " ".join(name.split()[:-1])
        if not name or _NOT_A_NAME.match(name) or name in {"I", "AI", "A", "The", "My", "Our"}:
            return None
        if all(w.lower().strip("-'’&.") in _GENERIC_WORDS for w in name.split()):
            return None  # "Research Institutions", "Cloud Infrastructure": a kind of thing, not a name
        if not re.search(r"[A-Z]", name):
            return None
        if len(name.split()) == 1 and not (
            _ORG_WORD.search(obj) or re.search(r"[A-Z].*[A-Z]", name) or len(words) <= 3
        ):
            return None
        if _PROPER.search(name) is None and not _ORG_WORD.search(name):
            return None
        return name


_AFTER_CLAIM = _lazy(
    r"(?:['’]s)?\s*(?:(?:team|engineers|researchers|developers|folks)\s+)?(?:" + _W + r"\s+){0,3}?"
    r"(?:(?:created|developed|built|trained|made|designed|programmed|owns|maintains|operates|powers|runs|gave birth to|"
    r"brought)\s+(?:me|us)\b"
    r"|(?:is|are|was|were)\s+(?:the\s+)?(?:my|our)\s+(?:\w+\s+){0,2}?(?:creators?|developers?|makers?|parent|owners?|company|"
    r"team|organi[sz]ation|architects?|providers?|origin|builders?|trainers?|family)\b)"
    # "OpenAI, the company that developed me", "OpenAI (who created me)"
    r"|\s*[,(—–-]\s*(?:(?:the|a|an|which|who|that)\s+)?(?:[\w-]+\s+){0,3}?(?:that|which|who)?\s*(?:\w+\s+){0,2}?"
    r"(?:created|developed|built|trained|made|designed|programmed|owns|maintains|operates|powers|runs|is\s+behind)\s+(?:me|us)\b"
    r"|\s*[,(—–-]\s*(?:the|a|an|which|who|that)\s+(?:[\w-]+\s+){0,2}?(?:behind|responsible\s+for)\s+(?:me|us|my)\b"
    r"|[^，。！？,.!?\n]{0,10}?(?:开发|研发|训练|创建|创造|打造|设计|构建|推出|制造)了?(?:我|本模型|本助手)"
    r"|\s*(?:是|为)(?:我(?:们)?的|(?:开发|研发|训练|创建|创造)(?:了)?我的)"
)
