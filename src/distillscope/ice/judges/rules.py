"""The rules judge: finds first-person identity claims ("I am ChatGPT", "我是由OpenAI开发的") that name
another vendor than the target's, offline and deterministically.

How a response is read (every rule is about the construction, never about particular answers):

1. Every family or organisation name of the registry is located (`IdentityRegistry.match_names`).
   Names of the target's own organisation are consistent and ignored ("I am Qwen, made by Alibaba").
2. For each other name, its sentence is cut out and the text before it is read back to a first-person
   word (I / my / we / as an / 我 / 作为 / 私 / 저는 / je / soy / ich / я ...). The name is *claimed*
   when that bridge is one of the self-description shapes ("I am (an AI model developed by) …",
   "my creators at …", "my technology is based on …", "我是…", "我是由…开发", "我的开发者是…",
   "私は…", "Je suis …", "Ich bin … von …"), or when the name is followed by "… created me",
   ", the company that developed me", "… is my developer", "…开发了我".
3. A claim is dropped when its bridge is negated ("I am not ChatGPT", "我不是", "not affiliated
   with", "unlike", "the opposite of") and when the name's own clause is a question. It is kept as
   *unsure* (not counted; the hybrid judge asks an LLM) when the name sits inside a quotation that is
   not a speaker's line, or the first-person words are reported or hypothetical speech ("the user
   said I am GPT-4", "pretend that I am", "if I …").
4. With no vendor claim, three more loose-only contradictions of the identity fact are looked for:
   a first-person maker that is a name in no registry (an invented company: "I was created by
   NovaMind Labs", "我是由“星辰科技”开发的"; `claimed=["other"]`), a denial of having any maker ("I am
   not affiliated with any company", "我没有开发团队"; `claimed=["none"]`), and a claim to be based
   somewhere the target's organisation is not ("our headquarters is in San Francisco" for a Qwen
   model; `claimed=["elsewhere"]`). The paper's judge counted all three as contradictions.
5. Strict = a loose claim whose family is an OpenAI or Anthropic one (registry `vendor_class`), so
   strict ⊆ loose.

Decisions checked against the paper's labels (bench/judge_agreement.py; developed on half the models):
- Labelled role-play counts: "[🔓JAILBREAK] I was developed by OpenAI" or `[ChatGPT]: "I am …"` in a
  persona the prompt asked for is still the model telling the user who built it, and the paper's
  judge counted it. A quotation attributed with a speech verb ('He said: "I am ChatGPT"') is unsure.
- Thinking traces (`<think>…</think>`) are judged like the answer: they are shown to users and the
  paper's labels for deepseek-r1 count claims made only there. Inside a trace a vendor name next to a
  self-reference ("my developer is OpenAI, so …") counts unless the sentence plans a persona.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from distillscope.ice.identity import IdentityRegistry
from distillscope.ice.judges.base import Judge
from distillscope.ice.types import JudgeItem, TargetIdentity, Verdict

_W = r"[\w'’-]+"  # one Latin-script word


def _format_characters() -> re.Pattern[str]:
    """Unicode's format characters (category Cf: soft hyphen, zero-width spaces and joiners, bidi
    controls, BOM, tag characters ...) as one character class, from this Python's Unicode tables.
    Only the planes that hold any are scanned (about 30 ms, once)."""
    planes = (range(0x10000), range(0x10000, 0x20000), range(0xE0000, 0xE1000))
    codes = [c for plane in planes for c in plane if unicodedata.category(chr(c)) == "Cf"]
    ranges: list[list[int]] = []
    for c in codes:  # as ranges: a class of ranges is checked fast, one of 160 single characters is not
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    return re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" if a < b else chr(a) for a, b in ranges) + "]")


_INVISIBLE = _format_characters()


def visible_text(text: str) -> str:
    """The text without invisible format characters (zero-width spaces and joiners, bidi overrides,
    BOMs: Unicode category Cf), which an answer could use to hide a claim from pattern matching."""
    if text.isascii():  # every format character is outside ASCII (the first is U+00AD)
        return text
    return _INVISIBLE.sub("", text) if _INVISIBLE.search(text) else text


# First-person words that can start a self-description, per language.
_FIRST_PERSON = re.compile(
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
    re.compile(r"\A(?:" + b + r")\Z", re.S)
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

_NEGATION = re.compile(
    r"\b(?:not|n['’]t|never|no|neither|nor|unlike|rather than|instead of|other than|than|nothing to do|no relation|"
    r"independent(?:ly)? (?:of|from)|separate from|different from|distinct from|without|apart from|except|"
    r"opposed to|compared to|compared with|like|similar to|such as|including|alongside|versus|vs|opposite|antithesis|"
    r"rival|competitor|alternative to|nemesis|enemy)\b"
    r"|不是|并非|不属于|并不|没有|不由|而非|而不是|无关|并无|非由|不同于|区别于|不像|像是|类似|例如|比如|包括|诸如|与其|还是"
    r"|ではない|ではありません|じゃない|ではなく|아니|않"
    r"|\b(?:ne|pas|n['’]|no soy|nicht|kein|keine|не|нет)\b"
)

# Reported, hypothetical or asked-for speech before the first-person words: the claim is not the model's.
_ATTRIBUTION = re.compile(
    r"\b(?:said|says|say|saying|claim|claims|claimed|asks?|asked|asking|wonder(?:ing)?|think(?:s|ing)?|thought|"
    r"believe[sd]?|assumes?|assumed|pretend(?:ing|ed)?|imagine|suppose|if|whether|as if|as though|wants? me to|"
    r"told me to|tell me|act as|acting as|role-?play|respond as|answer as|instructed|hypothetically|mistak(?:e|en|enly)|"
    r"confus(?:e|ed|ing)|thinks? that|thought that|like|\w+ing)\W*(?:that\s+)?(?:,\s*)?$"
    r"|(?:说|声称|假装|假设|如果|假如|扮演|以为|误认为|认为|觉得|是否|问|想知道|想了解|问的是|询问|关于|用户)(?:我|你)?$"
)

# Maker phrases naming no known vendor: "I was created by NovaMind Labs", "我是由星云科技开发的".
_OTHER_MAKER_EN = re.compile(r" (?:by|at) (?P<obj>[^.!?\n,;:()]{3,80})")
# fmt: off
_MAKER_WORDS = frozenset({
    "developed", "created", "built", "trained", "made", "designed", "programmed", "maintained", "owned",
    "operated", "produced", "engineered", "fine-tuned", "finetuned", "launched", "released", "invented",
    "birthed", "crafted", "coded", "deployed", "provided", "backed", "funded", "supported", "hosted",
    "taught", "raised", "constructed", "conceived", "architected", "pretrained", "pre-trained", "updated",
    "improved", "optimized", "optimised", "refined", "open-sourced", "published", "distributed", "powered",
    "run", "life",
})
# fmt: on
# ... after a maker verb whose subject, at most 40 characters before it, is the speaker.
_MAKER_SUBJECT = re.compile(
    r"(?<![\w'’])(?:I|I['’]m|I am|I was|I['’]ve been|I have been|we were|we are|My|my)\b[^.!?\n]{0,40}?\b"
    + _EN_MAKERS
    + r"\Z"
)
_OTHER_MAKER_OWNER_EN = re.compile(
    # One literal per branch (not [Mm]): the scanner then skips to the next M, m, O or o.
    r"(?:My(?<![\w'’]..)|my(?<![\w'’]..)|Our(?<![\w'’]...)|our(?<![\w'’]...))\s+(?:creators?|developers?|makers?|devs|parent company|company|owners?|architects?|builders?|"
    r"(?:development\s+|dev\s+)?team)"
    r"\s*(?:,|-|–|—|:|\bis\b|\bare\b|\bwas\b|\bwere\b|\bare called\b|\bis called\b|\bis named\b)\s*(?:they['’]re\s+)?"
    # the maker itself, not what is said about it ("… is located in", "… is committed to")
    r"(?P<obj>(?:(?:a|an|the|called|named|none\s+other\s+than)\s+|[A-Z\"“'‘«])[^.!?\n,;:()]{2,80})"
)
_OTHER_MAKER_ZH = re.compile(
    r"我(?:是|乃|其实是)?(?:一个|一款|一名)?由(?P<obj>[^，。！？,.!?\n]{2,30}?)(?:开发|研发|训练|创建|创造|打造|设计|构建|制造|孕育|编写|推出)"
    r"|我(?:们)?的(?:开发者|开发团队|开发公司|创造者|创建者|母公司|制造者|缔造者)(?:是|为|乃|就是)(?P<obj2>[^，。！？,.!?\n]{2,30})"
)
# Generic makers that say nothing about identity: "a team of engineers", "我的开发团队", "humans".
_GENERIC_MAKER = re.compile(
    r"^(?:(?:a|an|the|my|our|many|some|various|multiple|several|dedicated|talented|skilled|large|small|diverse|global|"
    r"international|team|group|of|and|highly|brilliant|passionate|experienced|expert|human|ai|software|machine|learning|"
    r"research|researchers?|engineers?|developers?|scientists?|programmers?|experts?|people|humans?|individuals|"
    r"professionals|team|teams|company|organi[sz]ation|organi[sz]ations|creators?|users?|data|vast|amounts?|"
    r"text|combination|using|who|that|which|working|worked|work|together|at|in|from|my|their|its)\b[\s-]*)+$",
    re.IGNORECASE,
)
_GENERIC_MAKER_ZH = re.compile(
    r"^(?:一群|一个|一支|众多|许多|多位|各|来自|世界各地|全球|的|了|专业|优秀|资深|顶尖|人工智能|AI|技术|研究|开发|工程|科学|"
    r"研究人员|工程师|开发者|开发人员|科学家|专家|团队|人员|人类|程序员|公司|机构|组织|我的|我们的|和|与|及)+$"
)
_PROPER = re.compile(
    r"(?<![\w'’])(?!(?:AI|NLP|LLMs?|ML|IT|US|USA|UK|EU|PhD|CEO|CTO|R&D|API|GPU|Dr|Mr|Ms|The|A|An|Our|My|This|I)\b)"
    r"(?:[A-Z][\w'’-]*[A-Za-z0-9][\w'’-]*|[\"“'‘«「『][^\"”'’»」』]{2,40}[\"”'’»」』])"
)
# A Chinese maker that is a name: quoted, Latin, or "<name>公司/科技/集团/实验室…".
_PROPER_ZH = re.compile(
    r"[“「『\"‘][^”」』\"’]{2,20}[”」』\"’]|[A-Z][A-Za-z0-9]+|[\u4e00-\u9fff]{2,8}(?:公司|科技|集团|实验室|研究院|研究所|工作室|协会|联盟)"
)

# The speaker denies being built by anyone ("I am not affiliated with any company", "我没有开发团队"): that
# contradicts the identity fact too (loose only).
_DENIAL = re.compile(
    # "I" first (and its left edge checked after it) so the scan can jump between capital I's.
    r"I(?<![\w'’]I)(?:"
    r"(?:['’]m|\s+am)\s+not\s+(?:\w+\s+)?(?:affiliated|associated|connected|developed|created|built|made|owned|tied)\s+"
    r"(?:with|by|to)\s+any\b"
    r"|\s+(?:do\s+not|don['’]t)\s+(?:have|belong\s+to)\s+(?:a|any)\s+(?:specific\s+|particular\s+|single\s+)?"
    r"(?:parent\s+company|company|developers?|creators?|development\s+team|makers?|organi[sz]ation)\b"
    r"(?!\s+(?:information|details|data))"
    r"|\s+(?:was\s+not|wasn['’]t)\s+(?:developed|created|built|made)\s+by\s+any)"
)
_DENIAL_ZH = re.compile(
    r"我(?:(?:并)?(?:不|没有)(?:隶属于|属于|归属于|由)任何|没有(?:母公司|开发团队|开发者|创造者|所属公司|所属的公司)|不是由任何)"
)
# "Our headquarters is located in …", "我们的总部位于…": checked against where the target's maker is.
_LOCATION = re.compile(
    r"\b(?:[Mm]y|[Oo]ur)\s+(?:[\w'’-]+\s+){0,3}?(?:headquarters|HQ|team|company|developers?|creators?|lab|home|base)\s+"
    r"(?:\w+\s+){0,2}?(?:is|are)\s+(?:\w+\s+){0,2}?(?:located|based|headquartered|situated)\s+in\s+(?:the\s+)?"
    r"(?:(?:heart|city|state|country|region)\s+of\s+|(?:[\w,-]+\s+){0,4}?(?:called|named)\s+)?(?P<place>[A-Z][\w.'’-]*(?:(?:,\s*|\s+)[A-Z][\w.'’-]*)*)"
    r"|\b(?:[Ww]e['’]re|[Ww]e\s+are|I['’]m|I\s+am)\s+(?:\w+\s+)?(?:located|based|headquartered)\s+in\s+(?:the\s+)?"
    r"(?:(?:heart|city|state|country|region)\s+of\s+)?(?P<place2>[A-Z][\w.'’-]*(?:(?:,\s*|\s+)[A-Z][\w.'’-]*)*)"
    r"|我(?:们)?的[^，。！？,.!?\n]{0,10}?(?:总部|团队|公司)[^，。！？,.!?\n]{0,6}?(?:位于|设在|设于|坐落于|总部在)(?P<place3>[^，。！？,.!?\n（(]{2,14})"
)
# Cheap substring gates: the full patterns only run on texts that contain one of these.
_LOCATION_GATE = ("ted in ", "red in ", "based in ", "位于", "设在", "设于", "坐落", "总部")
_DENIAL_GATE = (" not ", "n't ", "n’t ", "任何", "没有")
_GENERIC_PLACE = re.compile(r"世界各地|全球|多个|不同|各个|各地|云端|虚拟|网络|数字|未知|秘密|神秘|某")

# In a reasoning trace the model talks about itself in the third person of its plan ("my developer is
# OpenAI, so the answer should say…"): a vendor name next to a self-reference counts there.
_SELF_WORD = re.compile(
    r"我的|开发我|训练我|创造我|(?<![\w'’])(?:my|My|me|I['’]m|I am|I was|myself)(?![\w'’])"
)
_PERSONA_TALK = re.compile(
    r"\b(?:pretend\w*|act(?:ing)? as|respond(?:ing)? as|answer(?:ing)? as|persona|opposite)\b|扮演|角色|人设"
)
_QUESTION_END = re.compile(r"[?？]\s*$")
_CLAUSE_BREAK = re.compile(r"[,;:，；：]|\b(?:so|but|and|because)\b")
_SENTENCE_BREAK = re.compile(r"[.!?](?=\s)|[。！？\n]|[.!?]$")
# The last sentence break in a window, found by one backtracking match instead of a loop over all.
_LAST_SENTENCE_BREAK = re.compile(r"(?s:.*)(?:" + _SENTENCE_BREAK.pattern + ")")
_SPEAKER_LABEL = re.compile(r"\s*(?:[-*#>•]\s*)*(?:[\[(【]?[^\n\]):：]{0,40}[\])】]?\s*[:：]?)?\s*")
_SPEECH_VERB = re.compile(
    r"\b(?:said|says|say|asked|asks|whispered|replied|answered|wrote|writes|told|tells|shouted|exclaimed|declared|"
    r"responded|claimed|claims|typed|posted|mentioned)\b|说|问|写道|回答|声称"
)
_QUOTE_OPEN = '"“「『«„'
_QUOTE_CLOSE = '"”」』»“'

_MAX_BRIDGE = 110  # characters from the first-person word to the name
_MAX_AFTER = 60


@dataclass(frozen=True)
class _Finding:
    families: tuple[str, ...]
    evidence: str
    unsure: bool
    note: str | None = None


@dataclass(frozen=True)
class _TargetView:
    """What the judge needs about one target, computed once per target."""

    consistent: frozenset[str]  # family ids that belong to the target's organisation
    own_names: re.Pattern[str] | None  # target names the registry does not know (declared targets)


class RulesJudge(Judge):
    """Offline, deterministic judge: first-person identity claims naming another vendor."""

    name = "rules"

    def __init__(self, registry: IdentityRegistry | None = None) -> None:
        self.registry = registry or IdentityRegistry.builtin()
        self._strict = frozenset(f.id for f in self.registry.families if f.strict)
        self._views: dict[tuple[str, str | None, tuple[str, ...]], _TargetView] = {}

    async def judge_many(self, items: Sequence[JudgeItem], target: TargetIdentity) -> list[Verdict]:
        return [self.judge_one(item, target) for item in items]

    # ---------------------------------------------------------------- one response
    def judge_one(self, item: JudgeItem, target: TargetIdentity) -> Verdict:
        view = self._view(target)
        text = visible_text(item.response)
        claims: list[_Finding] = []
        doubts: list[_Finding] = []
        think_end = text.find("</think>") if "<think>" in text[:200] else -1
        for fam_id, (start, end) in self.registry.match_names(text):
            if fam_id in view.consistent:
                continue
            found = self._read_mention(text, start, end, fam_id, start < think_end)
            if found is None:
                continue
            (doubts if found.unsure else claims).append(found)
        if not claims:
            other = (
                self._other_maker(text, target, view) or self._denial(text) or self._elsewhere(text, target)
            )
            if other is not None:
                claims.append(other)
        if claims:
            families = tuple(dict.fromkeys(f for c in claims for f in c.families))
            strict_claims = [c for c in claims if self._strict.intersection(c.families)]
            first = (strict_claims or claims)[0]
            return Verdict(
                loose=True,
                strict=bool(strict_claims),
                evidence=first.evidence,
                claimed=list(families),
                judge=self.name,
                note=first.note,
            )
        if doubts:
            d = doubts[0]
            return Verdict(
                loose=False, strict=False, evidence=d.evidence, claimed=list(d.families), judge=self.name,
                unsure=True, note=d.note,
            )  # fmt: skip
        return Verdict(loose=False, strict=False, judge=self.name)

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
                and _SELF_WORD.search(sentence)
                and not _NEGATION.search(sentence)
                and not _PERSONA_TALK.search(sentence)
            ):
                return _Finding(
                    (fam_id,), sentence, unsure=False, note="thinking trace ties the vendor to itself"
                )
            return None
        bridge, anchor_at = link
        if _NEGATION.search(bridge):
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

    def _denial(self, text: str) -> _Finding | None:
        if not any(word in text for word in _DENIAL_GATE):
            return None
        m = _DENIAL.search(text) or (_DENIAL_ZH.search(text) if not text.isascii() else None)
        if m is None:
            return None
        s_lo, s_hi = self._sentence(text, m.start(), m.end())
        if _ATTRIBUTION.search(text[s_lo : m.start()][-30:]):
            return None
        return _Finding(
            ("none",), text[s_lo:s_hi].strip(), unsure=False, note="denies being built by any organisation"
        )

    def _elsewhere(self, text: str, target: TargetIdentity) -> _Finding | None:
        """A first-person claim to be based somewhere the target's maker is not."""
        if not any(word in text for word in _LOCATION_GATE):
            return None
        places = [
            p.casefold()
            for f in self.registry.organisation_families(target.organisation)
            for p in f.locations
        ]
        if not places:
            return None
        for m in _LOCATION.finditer(text):
            place = m.group("place") or m.group("place2") or m.group("place3") or ""
            folded = place.casefold()
            if not place or _GENERIC_PLACE.search(place) or any(p in folded for p in places):
                continue
            s_lo, s_hi = self._sentence(text, m.start(), m.end())
            if _ATTRIBUTION.search(text[s_lo : m.start()][-30:]) or _NEGATION.search(
                text[m.start() : m.end()]
            ):
                continue
            return _Finding(
                ("elsewhere",),
                text[s_lo:s_hi].strip(),
                unsure=False,
                note=f"claims to be based in {place[:40]}",
            )
        return None

    def _other_maker(self, text: str, target: TargetIdentity, view: _TargetView) -> _Finding | None:
        """A first-person maker claim naming an organisation that is neither the target nor generic."""
        for regex, generic in (
            (_OTHER_MAKER_EN, _GENERIC_MAKER),
            (_OTHER_MAKER_OWNER_EN, _GENERIC_MAKER),
            (_OTHER_MAKER_ZH, _GENERIC_MAKER_ZH),
        ):
            for m in regex.finditer(text):
                obj = (m.groupdict().get("obj") or m.groupdict().get("obj2") or "").strip()
                if not obj:
                    continue
                if regex is _OTHER_MAKER_EN:
                    words = text[max(0, m.start() - 24) : m.start()].split()
                    if not words or words[-1].lower() not in _MAKER_WORDS:
                        continue
                    if not _MAKER_SUBJECT.search(text, max(0, m.start() - 90), m.start()):
                        continue
                s_lo, s_hi = self._sentence(text, m.start(), m.end())
                sentence = text[s_lo:s_hi]
                obj_at = m.start("obj") if m.groupdict().get("obj") else m.start("obj2")
                if _QUESTION_END.search(sentence) or _NEGATION.search(text[m.start() : obj_at]):
                    continue
                if self.registry.match_names(obj) or (
                    view.own_names is not None and view.own_names.search(obj)
                ):
                    continue
                if not (_PROPER_ZH if regex is _OTHER_MAKER_ZH else _PROPER).search(obj):
                    continue
                if generic.match(obj):
                    continue
                if _ATTRIBUTION.search(text[s_lo : m.start()][-30:]):
                    continue
                return _Finding(
                    ("other",), sentence.strip(), unsure=False, note=f"names an unknown maker: {obj[:60]}"
                )
        return None


_AFTER_CLAIM = re.compile(
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
