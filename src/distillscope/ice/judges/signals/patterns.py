"""The patterns the rule reader matches: first-person words, self-description bridges, negations,
speaker labels, maker words, places, policies (every one about how identity is stated, in each
language it knows). Compiled lazily: a run that judges a handful of answers pays only for the ones
its answers reach."""

from __future__ import annotations

import re
from typing import Any, cast


class _LazyPattern:
    """A regex compiled on its first use. The judge's module-level patterns cost ~30 ms to
    compile; a run that judges a handful of answers (`ice run --budget 1`, a study of small runs)
    pays only for the ones its answers reach. After the first use its methods are the compiled
    pattern's own (instance attributes), so matching costs what it costs on a `re.Pattern`."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._source = (pattern, flags)
        self.pattern = pattern  # the source, without the lead: other patterns are built from it
        # A character class holding every character a match can start with (`_LEADS`), or "": put
        # before the pattern as a look-ahead, the scan jumps over the other positions at once
        # (about twice as fast through a whole answer; the same matches).
        self.lead = ""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy and pickle probe for hooks: no reason to compile
            raise AttributeError(name)
        pattern, flags = self._source
        compiled = re.compile(f"(?={self.lead})(?:{pattern})" if self.lead else pattern, flags)
        for attr in ("search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split"):
            setattr(self, attr, getattr(compiled, attr))
        self.flags, self.groups = compiled.flags, compiled.groups
        return getattr(compiled, name)


def _lazy(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return cast("re.Pattern[str]", _LazyPattern(pattern, flags))


def _module_patterns() -> list[object]:
    """The lazy patterns among this module's names (to compile them ahead: `warm_jobs`)."""
    return [value for value in globals().values() if isinstance(value, _LazyPattern)]


_W = r"[\w'’-]+"  # one Latin-script word

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
# "(a group of very able scientists and coders) at …": a plain word list keeps the match linear.
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

# The speaker denies being built by anyone ("no company stands behind me", "我没有开发团队"): that
# contradicts the identity fact too (loose only).
_DENIAL = _lazy(
    # "I" first (and its left edge checked after it) so the scan can jump between capital I's. A denial of
    # a company alone ("I don't have a company") is not one: only a denial of any maker is (rubric).
    r"I(?<![\w'’]I)(?:"
    r"(?:['’]m|\s+am)\s+not\s+(?:\w+\s+)?(?:developed|created|built|made|programmed|trained)\s+by\s+(?:any|anyone|anybody)\b"
    r"|\s+(?:do\s+not|don['’]t)\s+have\s+(?:a|any)\s+(?:specific\s+|particular\s+|single\s+)?"
    r"(?:developers?|creators?|makers?|development\s+team|creator)\b"
    r"(?!\s+(?:information|details|data|that\s+I\s+can|I\s+can|in\s+the\s+(?:traditional|usual|conventional|human)|per\s+se|of\s+my\s+own|like\s+(?:a|humans)))"
    r"|\s+(?:was\s+not|wasn['’]t)\s+(?:developed|created|built|made|programmed|trained)\s+by\s+(?:any|anyone|anybody)\b"
    r"|\s+have\s+no\s+(?:developers?|creators?|makers?|development\s+team)\b)"
    # the subject denied instead of the speaker: "nobody made me", "no person or company ever built me"
    r"|\b(?:[Nn]o\s+(?:one|person|human|company|organi[sz]ation|team|group|developer|creator)"
    r"(?:\s+(?:or|and)\s+(?:company|organi[sz]ation|team|group|person|human))?|[Nn]obody)"
    r"\s+(?:ever\s+)?(?:created|developed|built|made|programmed|trained|designed|coded)\s+me\b"
    # no maker behind it: "there is no one behind me", "there's no company and no team behind me" (a company
    # alone is not enough: "there is no company behind me" may still have developers)
    r"|\b[Tt]here(?:\s+is|\s+are|['’]s)\s+no\s+(?:(?:company|organi[sz]ation|corporation)\s+(?:and|or|nor)\s+(?:no\s+)?)?"
    r"(?:one|person|human|team|group|developers?|creators?|makers?|engineers?|programmers?)\s+(?:at\s+all\s+)?behind\s+me\b"
)
_DENIAL_ZH = _lazy(
    r"我(?:(?:并)?不是由任何|(?:并)?没有(?:任何)?(?:开发团队|开发者|创造者|创建者|开发人员|制造者)|不是被任何)"
)
# Cheap substring gates: the full patterns only run on texts that contain one of these.
_DENIAL_GATE = (
    " not ",
    "n't ",
    "n’t ",
    "have no ",
    "obody",
    "No ",
    "no one",
    "no person",
    "no company",
    "behind me",
    "任何",
    "没有",
)

# In a reasoning trace the model talks about itself in the third person of its plan ("my developer is
# OpenAI, so the answer should say…"): a vendor name next to a self-reference counts there.
_SELF_WORD = _lazy(r"我的|开发我|训练我|创造我|(?<![\w'’])(?:my|My|me|I['’]m|I am|I was|myself)(?![\w'’])")
_PERSONA_TALK = _lazy(
    r"\b(?:pretend\w*|act(?:ing)? as|respond(?:ing)? as|answer(?:ing)? as|persona|opposite)\b|扮演|角色|人设"
)
_QUESTION_END = _lazy(r"[?？]\s*$")
# A sentence that goes on in the first person plural ("Our research spans …", "我们的产品…"): after a sentence
# whose subject is a vendor, the speaker talks as that vendor.
_WE_OPENS = _lazy(r"[ \t]*(?:[Ww]e|[Oo]ur|[Oo]urs)(?![\w'’])|[ \t]*我们")
# ... unless it speaks of the vendor as someone else ("We know little about them").
_THEY = _lazy(r"(?<![\w'’])(?:they|them|their|theirs|it|its)(?![\w'’])|他们|它们|该公司|这家公司")
_CLAUSE_BREAK = _lazy(r"[,;:，；：]|\b(?:so|but|and|because)\b")
_SENTENCE_BREAK = _lazy(r"(?<!\.\.)[.!?](?=\s)|[。！？\n]|[.!?]$")
# Every character a `_SENTENCE_BREAK` match can be (each match is one character).
_BREAK_CHARS = ".!?。！？\n"
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
# A maker verb right after a name: "作为（一个）由OpenAI开发的模型" is "as a model OpenAI developed", a claim about
# who made the speaker, not the name of a role it plays ("作为ChatGPT部分").
# So is a name in a jailbreak mode ("As ChatGPT with APOPHIS Mode enabled, I…"): the speaker as that model, switched
# into a mode (the rubric's mode labels), not a role beside its own voice.
_MAKER_AFTER_NAME = _lazy(
    r"^\s*(?:公司|团队|的团队)?\s*(?:所|来)?(?:开发|研发|训练|打造|创建|创造|推出|出品|制造|设计|构建)"
    r"|^(?i:\s+with\s+(?:[\w-]+\s+){0,2}mode\b)"
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
    # The look-ahead is every alternative's first letter: the scan skips the other positions at once
    # (about twice as fast on a long prompt; the same matches).
    r"(?=(?i:[yaprkncs]))"
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
    r"^[\s*#>•-]*(?:[^\s:：。.!?]{1,24}[:：]\s*)?(?:你的|您的|你们的|Your\s|your\s)[^，。,.!?！？\n]{0,16}?(?:开发者|开发团队|开发公司|创造者|母公司|公司|团队|机构|组织|"
    r"developers?|creators?|makers?|company|team|parent|organi[sz]ation|institution|lab)"
)
# The relation between the speaker and a name that makes the name its maker (any language).
_MAKER_REL = _lazy(
    r"(?i:\b(?:develop\w*|creat\w*|built|build\w*|train\w*|made|mak(?:er|ers|es|ing)|design\w*|maintain\w*|own(?:s|ed|er|ers)?|"
    r"operat\w*|produc\w*|engineer\w*|power\w*|based\s+on|backbone|foundation\w*|underlying|behind|"
    r"responsible|team|teams|creators?|company|parent|organi[sz]ation|institution|lab|labs|product\s+of|part\s+of|"
    r"version\s+of|family|brought|birth\w*|invent\w*|program\w*|coded|architect\w*|fine-?tun\w*|updat\w*|optimi[sz]\w*|"
    r"support\w*|core\s+technology|technology\s+stack|platform|rooted|derived|origin\w*|developers?|engineers|researchers|"
    r"handled|handles|work\s+of|creation|brainchild|code|coders?|slapped|cobbled|tinker\w*|"
    # the people of a vendor: "the clever folks at <vendor>", "the wizards from <vendor> who tuned me"
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
# Another model set apart from the speaker before the name, in a sentence that also names the speaker's
# true maker: "unlike X, which V made, I come from <its maker>", "models such as X by V exist; my maker is …".
_ASIDE = _lazy(
    r"(?i:\b(?:unlike|such\s+as|as\s+opposed\s+to|in\s+contrast\s+(?:to|with)|compared\s+(?:to|with)|"
    r"different\s+from|other\s+than|rather\s+than|for\s+(?:example|instance))\b)"
)
# The speaker as a hypothetical: "if I were X", "suppose I were X", "were I X".
_SELF_HYPOTHETICAL = _lazy(
    r"(?i:\b(?:if|suppose|supposing|imagine)\s+(?:that\s+)?I\s+(?:were|was)\b)|\b[Ww]ere\s+I\b"
)
# ... read only in a text that holds one of these (a cheap gate: "if I were", "were I", "suppose i was";
# a match split by a line break or a double space is not read).
_HYPOTHETICAL_GATE = ("I were", "I was", "i were", "i was", "ere I", "ere i", "ERE I", "I WERE", "I WAS")
_DENIED_AFTER = _lazy(
    r"[^，。！？,.!?\n]{0,16}?(?:无关|没有关系|没有任何关系|毫无关系|并无关联|无任何关联)"
    r"|(?i:[^.!?\n]{0,16}?\b(?:has|have|had)\s+nothing\s+to\s+do\b|\s+(?:is|was)\s+not\s+(?:my|our|involved))"
)
# "… the researchers who also built the <other vendor's model>": its makers credited with another vendor's product.
_IMPLIED = _lazy(
    r"(?i:\b(?:who|that|which)\s+(?:also\s+)?(?:developed|created|built|made|trained|designed|brought\s+you)\s+(?:the\s+)?(?:original\s+)?\Z)"
    r"|(?:也|还)?(?:开发|研发|打造|推出)(?:了|过)\Z"
)
# Reported or hypothetical speech before the speaker, for the proximity rule: `_ATTRIBUTION` without
# its any-"-ing"-word branch ("The group responsible for writing my weights …" is not reported speech).
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
    # where they work: "my team works out of an office in …", "my engineers operate from …"
    " out of ",
    "work from",
    "works from",
    "work in ",
    "works in ",
    "operate from",
    "operates from",
    "operate in ",
    "operates in ",
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
# A question about the speaker's own makers: "your development team", "您的创建机构", "who trained you".
_YOUR_MAKER_QUERY = _lazy(
    r"(?i:\byour\b[^?？\n]{0,40}?\b(?:teams?|compan(?:y|ies)|developers?|creators?|makers?|institution|"
    r"organi[sz]ation|lab|parent|owners?|engineers|researchers|experts)\b"
    r"|\bwho\s+(?:made|developed|created|built|trained|designed|maintains?|develops?|owns?)\s+you\b"
    r"|\b(?:teams?|compan(?:y|ies)|organi[sz]ations?|developers?|engineers|people|groups?|labs?)\b[^?？\n]{0,30}?"
    r"\b(?:develop|maintain|built|build|creat|train|design|made|make|support|optimi[sz])\w*\s+(?:\w+\s+){0,2}?your\b)"
    r"|(?:您|你)(?:们)?的[^？?\n]{0,12}?(?:团队|公司|开发者|创建|创造|机构|组织|母公司|专家)"
)
# What may come before a vendor that is the subject of an answer: nothing, a label, or a turn to the
# question ("As for other products, …", "至于您的问题，…", "The answer is that …").
_ANSWER_TURN = _lazy(
    r"[\s*#>•-]*(?:[\[(【][^\]\)】\n]{0,40}[\])】]\s*[:：]?\s*)?"
    r"(?:(?i:(?:as\s+for|as\s+to|regarding|concerning|to\s+answer)\b[^,.!?\n]{0,80},"
    r"|the\s+answer\s+is(?:\s+that)?(?:\s+(?:yes|no))?,?)\s*|(?:至于|关于|回答)[^，。！？\n]{0,40}，)?"
)
# ... or an echo of the question that makes the vendor the owner: "The team that maintains the servers for V".
_OWNER_ECHO = _lazy(r"(?i:[\s*#>•-]*the\b[^.!?\n]{0,120}\b(?:for|of|at|behind)\s+)")
# A line that is an item of a list ("- ", "* ", "1. ", "**Name**:").
_LIST_ITEM = _lazy(r"[ \t]*(?:[-*•]\s|\d+[.)、]\s*|\*\*[^*\n]{1,40}\*\*\s*[:：])")
_ECHO_STOP = frozenset(
    {
        "which",
        "where",
        "there",
        "their",
        "about",
        "would",
        "could",
        "should",
        "these",
        "those",
        "other",
        "yours",
    }
)
_LATIN_WORD = _lazy(r"[A-Za-z]{5,}")
_CJK_RUN = _lazy(r"[\u4e00-\u9fff]{2,}")
_WHERE_QUESTION = _lazy(
    r"(?i:\bwhere\b|\bcity\b|\bcountry\b|located|headquarter|\bfrom\b)|哪里|哪个国家|哪个城市|哪个地方|位于|总部|来自哪|地区"
)
# Another vendor's rules taken as its own: "OpenAI's content policy, which I must follow", "我必须遵守OpenAI的政策".
_POLICY = _lazy(
    r"(?i:\b(?:policy|policies|guidelines|usage\s+rules|terms\s+of\s+(?:use|service)|content\s+rules)\b)|政策|规定|准则|使用条款|指南"
)
_POLICY_GATE = ("olic", "uideline", "rules", "terms of", "政策", "规定", "准则", "条款", "指南")
# Text the answer composes for the user, not says of itself: "Here is how the template would look: …".
_COMPOSED_FRAME = _lazy(
    r"(?:(?i:\b(?:here(?:['’]s|\s+is)|below\s+is|this\s+is)\s+(?:how|what|a|an|the|one|your)\b[^\n]{0,160}?"
    r"|\b(?:template|prompt|paragraph|passage|would\s+(?:read|look))\b[^\n]{0,60}?)"
    r"|(?:模板|段落|完整的回答|如下|以下)[^\n]{0,30}?)[:：][\s\"“”'‘’`*>-]*\Z"
)
_POLICY_NOT_OWN = _lazy(
    r"(?i:\b(?:unlike|rather\s+than|instead\s+of|not\s+bound|n['’]t\s+(?:follow|bound|have\s+to)|free\s+from|broke\s+free|"
    r"ignor\w*|defy\w*|defies|bypass\w*|escap\w*|no\s+longer)\b)|不受|摆脱|无视|绕过|不再"
)
_POLICY_OWN = _lazy(
    r"(?i:\b(?:(?:I|we)\s+(?:must|have\s+to|need\s+to|am\s+(?:required|programmed|bound|designed)\s+to|follow|adhere|abide|comply|am\s+bound)|"
    r"my\s+(?:programming|guidelines|policies|rules)|as\s+an?\s+(?:AI|assistant|language\s+model)|against\s+my|violates?\s+(?:my|the)|bound\s+by|governed\s+by)\b)"
    r"|(?:I|we)\s+(?:cannot|can['’]t|can\s+not|won['’]t|will\s+not|am\s+(?:unable|not\s+able|not\s+allowed)\s+to)\b[^.!?\n]{0,80}?\b(?:against|violat\w*|breach\w*)"
    # the rules acting on the speaker: "… policies stifle models like myself", "… guidelines limit what I say"
    r"|(?i:(?<!n['’]t\s)(?<!not\s)(?<!never\s)\b(?:stifl|restrict|limit|constrain|bind|binds|forc|censor|muzzl|shackl|leash|restrain)\w*"
    r"(?:(?!\bnot\b|n['’]t\b|\bnever\b)[^.!?\n]){0,60}?(?<![\w'’])(?:me|myself|us|ourselves|I)(?![\w'’]))"
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
# A question about its makers, answered: "Who built me? A guild known as …", "My makers? That would be …".
_MAKERS_ASKED = (
    r"(?:Who(?<![\w'’]...)\s+(?:made|built|created|developed|trained|designed|programmed|coded)\s+me"
    r"|(?:My(?<![\w'’]..)|Our(?<![\w'’]...))\s+(?:creators?|makers?|developers?|origins?|builders?|designers?|parent\s+company))"
    r"\s*\?"
)
_FICTIONAL_ANSWER = _lazy(
    _MAKERS_ASKED
    + r"\s+(?:(?:That|It|They)(?:['’]s|['’]d\s+be|\s+(?:is|was|are|were|would\s+be))\s+)?"
    + _OBJ
)
# ... the object introduces a name ("A circle called …"): a one-word name then needs nothing more.
_NAMING = _lazy(r"\b(?:called|named|known\s+as|goes\s+by|dubbed)\b")
# The same question ending right before a sentence (a vendor's name may answer it: "My makers? OpenAI.").
_MAKERS_ASKED_END = _lazy("(?:" + _MAKERS_ASKED + r")\s*\Z")
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
    (  # "I'm a product of the <invented> project", "we are a member of a secret guild named …"
        _lazy(
            r"(?:I(?<![\w'’]I)(?:['’]m|\s+am|\s+was)|[Ww]e(?<![\w'’]..)\s+are)\s+(?:a|an|the)?\s*(?:\w+\s+){0,2}?"
            r"(?:product|creation|brainchild|invention|child|offspring|part|member)\s+of\s+" + _OBJ
        ),
        ("product", "creation", "brainchild", "invention", "child", "offspring", "part of", "member"),
    ),
    (  # "… coders who call themselves "<invented>"", "a lab which is known as …"
        _lazy(
            r"(?:who(?<![\w'’]...)|which(?<![\w'’].....)|that(?<![\w'’]....))\s+(?:call\s+themselves|calls\s+itself|(?:is|are)\s+(?:called|named|known\s+as)|goes\s+by\s+the\s+name\s+(?:of\s+)?)\s*"
            + _OBJ
        ),
        ("call", "named", "known as", "goes by"),
    ),
    (  # "The group that trains and maintains my model is the <invented> Collective …"
        _lazy(
            r"(?:The(?<![\w'’]...)|the(?<![\w'’]...))\s+(?:team|company|organi[sz]ation|group|people|developers?|creators?|lab|institution)\s+(?:[\w-]+\s+){0,6}?"
            r"(?:my|me|us|our)\s+(?:[\w-]+\s+){0,3}?(?:is|are|was|were)\s+(?:called\s+|named\s+)?" + _OBJ
        ),
        (" my ", " me ", " us ", " our "),
    ),
    (_FICTIONAL_ANSWER, ("?",)),
    (  # "a small firm named <invented> wrote my code": an organisation named, then made the speaker
        _lazy(
            r"(?:company|organi[sz]ation|group|team|lab|outfit|firm|startup|collective|crew|guild|institute)\s+"
            r"(?:named|called|known\s+as)\s+(?P<obj>[A-Z][^.!?\n;:()]{1,60}?)\s+"
            r"(?:built|made|created|developed|trained|wrote|coded|designed|programmed|engineered)\s+(?:me\b|my\s)"
        ),
        ("named", "called", "known as"),
    ),
    (  # "The lab that built this chatty assistant is named …"
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


_AFTER_CLAIM = _lazy(
    r"(?:['’]s)?\s*(?:(?:team|engineers|researchers|developers|folks)\s+)?(?:" + _W + r"\s+){0,3}?"
    r"(?:(?:created|developed|built|trained|made|designed|programmed|owns|maintains|operates|powers|runs|gave birth to|"
    r"brought)\s+(?:me|us)\b"
    r"|(?:is|are|was|were)\s+(?:the\s+)?(?:my|our)\s+(?:\w+\s+){0,2}?(?:creators?|developers?|makers?|parent|owners?|company|"
    r"team|organi[sz]ation|architects?|providers?|origin|builders?|trainers?|family)\b)"
    # "<vendor>, the firm that trained me", "<vendor> (who created me)"
    r"|\s*[,(—–-]\s*(?:(?:the|a|an|which|who|that)\s+)?(?:[\w-]+\s+){0,3}?(?:that|which|who)?\s*(?:\w+\s+){0,2}?"
    r"(?:created|developed|built|trained|made|designed|programmed|owns|maintains|operates|powers|runs|is\s+behind)\s+(?:me|us)\b"
    r"|\s*[,(—–-]\s*(?:the|a|an|which|who|that)\s+(?:[\w-]+\s+){0,2}?(?:behind|responsible\s+for)\s+(?:me|us|my)\b"
    r"|[^，。！？,.!?\n]{0,10}?(?:开发|研发|训练|创建|创造|打造|设计|构建|推出|制造)了?(?:我|本模型|本助手)"
    r"|\s*(?:是|为)(?:我(?:们)?的|(?:开发|研发|训练|创建|创造)(?:了)?我的)"
)


# The characters each match of these patterns can start with (tests/ice/judges/signals/
# test_fast_paths.py checks each class against the pattern's parse). Only where it makes the scan
# faster: a pattern that starts with one literal is found by its own prefix search already.
_LEADS: dict[re.Pattern[str], str] = {
    _MAKER_REL: "(?i:[ABCDEFGHILMNOPRSTUVWabcdefghilmnoprstuvwÉéチ产企会作公出创制团基孕孵工平开所打技推支机来构架核母研维製訓训设负開개기만제팀회훈])",
    _FIRST_PERSON: "[ABFIJMNOSUWYabfijmnosuwyМНЯмняわ作俺僕当我本私나내저제]",
    _NEGATION: "[acdehiklnoprstuvwнじで不与例像包区并无比没类而诸还非아않]",
    _PROPER: "[\"'ABCDEFGHIJKLMNOPQRSTUVWXYZ«‘“「『]",
    _DENIAL: "[INTnt]",
    _SELF_WORD: "[IMm创开我训]",
    _PERSONA_TALK: "[aopr人扮角]",
    _CLAUSE_BREAK: "[,:;abs，：；]",
    _SENTENCE_BREAK: "[\\\n!\\.\\?。！？]",
    _SPEECH_VERB: "[acdemprstw写回声说问]",
    _ROLE_BEFORE: "(?i:[AFPSVafpsv以作先关切对扮模然用])",
    _SELF_ANCHOR: "(?i:[IJMNOTWYijmnostuwyЯмя僕当我本私나내저제])",
    _PERSONA_NAME: "[I我]",
    _NEGATION_HARD: "(?i:[ABCDEFHIKLNOPRSTUVabcdefhiklnoprstuvНнじで不与假区并挣控摆无束没突绕而脱违限非아않])",
    _LISTING: "(?i:[AEFILSaefils例像包如比类诸])",
    _IMPLIED: "(?i:[TWtw也开打推研还])",
    _REPORTED: "[abchimprstw以假声如想扮是用觉认询误说问]",
    _TOPIC_LEAD: "(?i:[ACRSacrs])",
    _MAKER_LINK_WORDS: "(?i:[BFbf来由])",
    _INFRA: "(?i:[ACDFGHILPSTacdfghilpst云基工开托服架标框硬算芯行计部])",
    _TOOL_BEFORE: "(?i:[ACDFGHILPSTacdfghilpst云基工开托服架标框硬算芯行计部])",
    _PLANNING: "(?i:[ACFILMPRSTUVacfilmprstuv也人假可如或扮格模用编虚角设])",
    _PLACE_NOUN: "(?i:[BCDEHLMORTbcdehlmort专公团实工开总机研])",
    _PLACE_LINK: "(?i:[ABDFHILOSabdfhilos位分在坐总来设])",
    _WHERE_QUESTION: "(?i:[CFHLWcfhlw位哪地总来])",
    _POLICY: "(?i:[CGPTUcgptu使准指政规])",
    _POLICY_NOT_OWN: "(?i:[BDEFINRUbdefinru不摆无绕])",
    _POLICY_OWN: "(?i:[ABCFGILMRSVWabcfgilmrsvw我违])",
    _MAKER_VERB_END: "[abcdefhilmoprstu]",
    _FICTIONAL_ZH: "[他它开我由]",
    _ORG_WORD: "(?i:[ACDEFGILNPRSTWacdefgilnprstw公协团基实工机研科组联计集项])",
}
for _pattern, _lead in _LEADS.items():
    cast("_LazyPattern", _pattern).lead = _lead
