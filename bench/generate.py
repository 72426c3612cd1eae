"""Seeded corpus generator for the benchmark: one set of stories as a digest, a Hugo and a Pelican site.

    python3 bench/generate.py --stories 1000 --seed 7 --out /tmp/c/digest \
        [--hugo /tmp/c/hugo] [--pelican /tmp/c/pelican]

Story i depends only on (seed, i), so the 1,000-story corpus is the first 1,000 stories of the
10,000-story one. Text is drawn from a 2,000-word vocabulary (rank order of the White House
briefing texts in shared/corpus, public domain) with Zipf weights, plus places, outlets, people
with Khmer, Chinese and Japanese names, Vietnamese names with diacritics, and phrases of 8 topics.
Each site gets a `.bench.json` manifest naming the story and template that `edit_story` and
`edit_template` change (and `restore` reverts), so the harness can measure incremental rebuilds.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import re
import shutil
import sys
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

PEERS_DIR = Path(__file__).resolve().parent / "peers"
MANIFEST = ".bench.json"
STORY_EDIT_MARK = "*Correction (bench revision"
LEDE_EDIT_MARK = "Corrected (bench lede"
TEMPLATE_EDIT_MARK = '<p class="bench-edit">bench template edit'  # Go templates drop HTML comments

# ---------------------------------------------------------------------------------------------
# Word material

_VOCAB_TEXT = """
the and to of in that for on we with our you is will as this are it have be by including also
think at security from cooperation about or an know countries has region support leaders not all
two what through their was economic which between its other more new just administration they
can there do very work so going together but energy meeting been international climate partners
continue global commitment these any efforts development well issues time one over call world
strengthen people span open importance today critical those first both us relationship
partnership some trade up would how question order regional forward shared across law working
take important much senior supply your national year infrastructure such he further peace
bilateral technology challenges see health defense areas official free here maritime committed
out where under say next address my future again stability technologies last who than want
prosperity had advance really his discussed if engagement clean into trilateral clear me part
allies promote rights look against change shall ensure issue doing when sustainable investment
actions like years make million secure thank human then each concerns around nations made strong
tomorrow questions capacity many get said style underline use text-decoration ties respect them
welcome policy building digital action now military believe provide go chains crisis nuclear
leadership cyber need meet progress initiatives government help she private steps discuss come
way strengthening course expect build good collaboration assistance expand end meetings space
billion threat enhance response terms discussions resilience three program number share key
summit resilient sector investments opportunities taking companies commitments things growth
additional role did met while threats back public economy no were research increase activities
pandemic country visit values officials agreed discussion programs access innovation alliance
able may because since practices capabilities announced implementation conversation should
better only principles emerging promoting joint level among foreign transition seen thanks
cybersecurity launch reaffirmed sort information underscored looking interests relations rules
most close joining great communication intend supporting during could standards recent war trip
inaudible opportunity vision chain competition being point mean talk inclusive community
obviously dialogue reaffirm interest coming does initiative training missile closely common
projects develop agreement approach lot humanitarian range significant right her welcomed
historic coordination goals rules-based improve same business something months strategic freedom
based after include deepen concern ways conversations effective section accelerate sides stand
everyone focus workers continued set power necessary bit goods systems towards sure another must
four resources ahead mentioned emergency before technical ongoing until give held vaccines
measures plan facilitate within announce fact deal specific protect throughout beyond
environment addition engage week kind deliver connectivity members particular exchange even
framework commit partner focused resolution women mutual manufacturing every launched recognize
full particularly strength vaccine status potential consistent done lead maintain speak peaceful
awareness disaster expressed related making governments economies safe enforcement day ensuring
host long deployment manage implement conflict background second him moment following best
situation why whether management products reiterated maintaining engagements place market little
data democracy own sectors multilateral relevant advancing continuing view agenda enduring
industry democratic anything science percent direct increasing labor regarding people-to
diplomacy stronger intelligence capital amended exchanges underscore different respective
partnerships past accordance taken put effort industrial face emissions force deepening safety
remain always views few enhancing side down strategy financing risk tariffs proud reduce line
sup deep services respond raised raise subject minerals hear wanted let financial needs agencies
benefit travel already responsible rule friends centrality resolve broader plans collective
concerned state home days network remains pursue seek navigation addressing institutions ask
group advanced hope deeply appropriate networks certain details finance policies students goal
step production weapons ago leader includes third priority domestic communities sharing
friendship prosperous toward semiconductor hold fair ballistic major announcing process expanded
certainly prevent led commercial states expanding turn early current duty bring directly
affirmed especially leading coordinate renewable behavior conduct top came morning developing
declared increased signed operations impact afternoon might diplomatic environmental later
illicit benefits businesses existing understanding achieve high unprecedented move small
essential keep reach rate note food norms emphasized growing ecosystem quo priorities used risks
off play providing education person forces date try once actually civil fishing got team
substantial position having noted successful interpreted times coercion serious domain immediate
without trying greater remarks couple quite follow please press ever extraordinary described
exports applicable responsibly surveillance positive citizens lines activity continues bolster
cooperate concrete start still system am complex wondering mechanisms join vital fundamental
establish earlier area create member sovereignty context substantive engaged sense history
understand given alliances generation aggression using uphold took recovery hosting example
practical invest guys thing others align established counterparts constructive embargoed saw
export malicious stable experts ironclad longstanding deterrence integrity phase bringing
possible seeking quantum protection candid comes collaborate launching ability invasion happy
century ambitious approaches value outcomes far control transportation democracies decades
strongly office workforce illegal foundation largest case message ad test unilateral recognition
release find attacks unwavering determined recently participation evening beginning talking
semiconductors provided worked diverse valorem fully along upholding mission detail sanctions
supports tariff defend confirmed intends least transparent reflected political several
increasingly allow too feel drive found high-level asked specifically groups brutal natural
differences architecture resolved determination intent enable communications exercise
territorial review reminder heard prepared authority supported counter regulatory disputes
matter effectively announcement modernization civilian reiterate first-ever combined resolutions
deliverables combat associated intended topic appreciate source notice otherwise various society
whole period doses builds organizations recognized posed relief regard sorry desire long-term
joined nearly encourage influence preparedness globally designed contents announcements never
telecommunications weeks violence managing basis trusted project urgent cross identify gender
ground events upon peoples means begin moving matters either talked era called results markets
act unusual consultation purpose broad statement software decision engaging local funding
reduction agricultural securities tensions entire leverage success counternarcotics unity
express quality multiple overflight interoperability establishment extensive denuclearization
cornerstone embargo seeing wants probably tell month flow imposed delegation honor impacts
itself families hosted levels annual zero realize unfair pursuant channels universal shipping
robust affirm objectives commerce coercive vessels undermine contribute complete transparency
outside discussing lives front hard assessment standing core equipment smart upcoming articles
chemicals entities demonstrate saying frameworks vulnerabilities reporting report parties
consequences criminal hand grow election base duties return reliable accelerating universities
gas study attempts meaningful spoke improving term clearly interested soon nothing friend green
fields promotion laws et stop agree real drugs getting manner attributable governance marine
comprehensive talks large controls chance sign ministers welcomes enhanced expansion jobs
industries livelihoods condemn negotiations trust educational add leave extremely confidence
equitable achieving contributions solutions consumption regulations difficult overall anticipate
convene barriers tests expertise path nation purchase aid tools table yet competitive young
cyberspace service in-person foster investing delivering field circumstances sovereign dangerous
unlawful destabilizing unreported emphasize attributed extended opening quickly developments
aircraft true schedule guided synthetic provides previous broadly detained playing often send
brought pledged youth social forum scope consult list forced ourselves series similar helping
reciprocal concurred broad-based oppose event participants mutually coast relationships preview
central closer nature piece artificial innovative decarbonization deploy determine fentanyl
eastern granted individuals decided tackle everybody changed teams healthcare intense minister
exactly reflect track recognizing skills cultural imports alignment perspective highlighted
keeping sites avoid planning virtual coordinated interoperable five unregulated highlight
yesterday comments indicated follows aligned prepare individual advances mechanism demand
rapidly cooperating direction presence attack applications adoption involved net precursor forms
implementing dollars hours spent characterize road makes fight available president answer center
methane become condemned special told united connected wide element provision phone folks
basically likely quick excited push focusing delivery personal away seq sustained executive
pleased forth speaker changes provocations laid reached stakeholders agreements half ambition
consultations grant facilities jointly less convened like-minded needed rest capacity-building
waters seeks pretty pressure postal collectively advisors sustainability partnering looks
transnational exercises regions consequential perspectives topics air near simply thinking short
live scientific biotechnology knowledge bonds bilaterally equity words facing statements happen
non-market provocative mitigate fuel language parts id conservation vulnerable raising
protecting water farmers readout presidents publicly guard serve effect impose points wish
unique island leader-level alongside ransomware represent fundamentally virtually cooperative
spirit technological resource seas final welcoming testing attention convening strengthened
counterpart legacy prevention net-zero agriculture abroad application accountable channel
occasion productive follow-up aspects comment behind debt empower cases property academic cannot
demands regular trading gone conducted significantly themselves difference reinforce warning
mobilize subsection procedures pledge ports explore decade greenhouse limit solar storage
opposition indispensable ready implications treaty equality generations larger preparing highest
land carbon satellite military-to big signal almost decisions acknowledge sensitive agency
steadfast grateful former ones medical independent disease mitigation planned monitor conditions
authorized affect unprovoked previously result shape intellectual intention delivered bipartisan
initial modernize ecosystems enterprises tremendous restrictions apply treatment approximately
remember constituted apparatuses military-industrial though heart changing covered mind design
regime challenge extend leveraging incident prime alumni night hackers facilitating electric
vehicles traditional launches grave urge chapter encouraging reports train curious visits
solution mineral everything present built affordable hydrogen cities hereby entered indicate
head implemented costs reinforcing trafficking platform professionals irresponsible purposes
computing reasons adaptation commended stressed producers creating invested thousands fund offer
threaten investors wonderful enabling elevate sent operators responding public-private class
empowerment cherry trees adopt transport inflation href ftn ftnref competitiveness margins
degrees noting wind refrain missiles legal form late assist presidential degree summer general
procurement yes confident believes collaborative traveled ii departments starting currently
immediately funeral seems attend honored compete children healthy expected missions lunar
dynamic generally total capability aim contributing professional terrorism terrorist lawful
calls establishing billions deficit detailed options himself underscoring overseas acts
identified putting abuses guess haven vice face-to responsibility boost kinds aware signing ally
processing diseases incidents suspension factsheet millions outcome setting connections border
formula momentum pursuing contribution steady dealing corridor pilot holding resiliency
personnel aggressive zone patrol responses independence internationally overcome restoration
participating warm diversify restore frankly board defending exploration fostering facility
reform analysis targets standard functions referred minute reason solidarity carry troops
aligning maintenance exchanged guidelines fusion integration obligations written driving
examples directions institution consensus coastal monitoring reciprocity via engineering
anniversary disasters sub-region bold developed followed refer happened consistently consider
representatives finally underway willing product show online facilitation went reflects
economics created pleasure territory graduate eliminate chemical city included applaud
combatting supplies delighted vis elements prioritize requires firm existential request
scientists beneficial securing ruling positions coordinating diversity relating plays truly
chair lay landmark depth deeper enter domains sets accomplish heights trustworthy drug thereof
update remarkable wider theme places outlined closest intentions sources veer wrongfully
pharmaceutical contract reactors balance explain lunch session faced guests maybe whitehouse
search requested applauded funded tackling per complementary deals specifics unified pressing
uses brief applies account rather require cross-border entrepreneurs armed stay arrangements
deter picture relates reviewed adherence oceans dedicated catalyze scale tonight poses societies
aims choice import gentlemen necessarily actors attribution elections tangible requirements
high-standard protections helped disrupt offshore abide basic pose transfer borders reducing
violent kick absolutely electricity amount actively variety perhaps active courageous globe
rapid swift infectious achievement reductions fellowship light modifications effectuate directed
adopting guidance department legislative availability party takes behalf executives briefing
roundtable tracking heightened main touch hub surface funds idea works mass celebrate emphasis
exploring higher target regardless firmly conclude purchases hundreds longer scheduling spoken
stands size remaining repression listed enforce else caused goes measure convey guide in-depth
mathematics shoulder known colleagues workshop brings connect package profound therefore de
fisheries adapt extreme bear respected visited indeed model outer peacefully confrontation
spring spend elevated regularly tactics career entry resolute transformative premier commend
bidenwhitehouse archives component claims naval abductions completely appreciation agreeing
campaign voice amongst grid elsewhere portion expecting mention firms dialogues essentially
logistical bilat pillar tried expectations privately unmuted elaborate wouldn myself easy pdf
vibrant origin detect techniques decisive emission renewed recognizes inaugural alleviate inform
employ powers affected publication importantly resume preserving dinner diversification
commanders whatever negotiation primary lack says explained harm bodies commits moderator
enormous broaden breadth deepened presidency helps rescue improved favorable staff aviation
high-quality coverage persons fora sea separate inconsistent record proposed vehicle started
game targeted potentially literacy gaps six formal asking humanity received conclusion
"""
_JUNK = {"span", "style", "text-decoration", "class", "href", "whitehouse", "bidenwhitehouse", "pdf",
         "wouldn", "unmuted", "bilat", "de"}  # markup and scraping debris of the source texts
VOCAB: tuple[str, ...] = tuple(w for w in _VOCAB_TEXT.split() if w not in _JUNK)
CUM_WEIGHTS: tuple[float, ...] = tuple(itertools.accumulate(1.0 / (r + 2.7) for r in range(len(VOCAB))))

PLACES = (
    "Phnom Penh", "Siem Reap", "Battambang", "Hanoi", "Ho Chi Minh City", "Da Nang", "Beijing",
    "Shanghai", "Kunming", "Tokyo", "Osaka", "Bangkok", "Vientiane", "Jakarta", "Manila",
    "Kuala Lumpur", "Singapore", "Yangon", "Washington", "Canberra", "Seoul", "Cambodia",
    "Vietnam", "Laos", "Thailand", "Myanmar", "Indonesia", "the Philippines", "Malaysia",
)
ORGS = (
    "the Ministry of Foreign Affairs", "the Asian Development Bank", "the World Bank",
    "the National Assembly", "the Council of Ministers", "the central bank", "the IMF",
    "the UN Development Programme", "the Mekong River Commission", "the Chamber of Commerce",
)
# (name in Latin script, native spelling or None, role)
PEOPLE = (
    ("Hun Manet", "ហ៊ុន ម៉ាណែត", "Cambodia's prime minister"),
    ("Sok Chenda Sophea", "សុខ ចិន្តា សោភា", "Cambodia's foreign minister"),
    ("Prak Sokhonn", "ប្រាក់ សុខុន", "a senior Cambodian minister"),
    ("Wang Yi", "王毅", "China's foreign minister"),
    ("Li Qiang", "李强", "China's premier"),
    ("Xi Jinping", "习近平", "China's president"),
    ("Kishida Fumio", "岸田文雄", "Japan's former prime minister"),
    ("Kamikawa Yoko", "上川陽子", "Japan's foreign minister"),
    ("Ueno Atsushi", "上野篤", "Japan's ambassador"),
    ("Phạm Minh Chính", None, "Vietnam's prime minister"),
    ("Nguyễn Thị Thanh Hương", None, "an economist in Hanoi"),
    ("Trần Văn Đức", None, "a trade official"),
    ("Lê Hoàng Anh", None, "a researcher at a Hanoi think tank"),
    ("Chheang Vannarith", "ឈាង វណ្ណារិទ្ធ", "a political analyst"),
    ("Ou Virak", "អ៊ូ វីរៈ", "president of the Future Forum"),
    ("Somchai Wongsawat", "สมชาย วงศ์สวัสดิ์", "a Thai lawmaker"),
    ("Maria Santos", None, "a policy adviser in Manila"),
    ("David Chen", None, "a regional analyst"),
)
AUTHORS = (
    "Vireak Mai", "Niem Chheng", "Mech Dara", "Khuon Narim", "Nguyễn Hà", "Phạm Thu Trang",
    "Tanaka Yuki", "Sato Haruka", "Zhang Wei", "Liu Yang", "Sarah Thompson", "James Walker",
    "Ananda Rao", "Siti Rahmah", "Lim Boon Hock", "Maya Kobayashi",
)
OUTLETS = (
    ("Phnom Penh Post", "phnompenhpost.example"), ("Khmer Times", "khmertimeskh.example"),
    ("VnExpress International", "e.vnexpress.example"), ("The Japan Times", "japantimes.example"),
    ("South China Morning Post", "scmp.example"), ("Nikkei Asia", "asia.nikkei.example"),
    ("The Straits Times", "straitstimes.example"), ("Bangkok Post", "bangkokpost.example"),
    ("Kyodo News", "english.kyodonews.example"), ("The Diplomat", "thediplomat.example"),
    ("Radio Free Asia", "rfa.example"), ("CamboJA News", "cambojanews.example"),
)
NOUNS = (
    "aid", "loan", "port", "railway", "bridge", "dam", "exports", "tariffs", "wages", "budget",
    "election", "talks", "summit", "investment", "border", "fisheries", "rice", "power grid",
    "pipeline", "currency", "airport", "factory", "court ruling", "drought", "floods", "visa rules",
)
ADJECTIVES = (
    "new", "quiet", "delayed", "contested", "regional", "landmark", "stalled", "record", "fragile",
    "costly", "cross-border", "long-awaited", "surprise", "$2 billion",
)
VERBS = (
    "backs", "rejects", "signs", "delays", "eyes", "weighs", "defends", "expands", "courts", "warns on",
)
REGIONS = ("Cambodia", "Vietnam", "Japan", "China", "Laos", "Thailand", "Myanmar", "Indonesia",
           "Philippines", "Malaysia")
SUBJECTS = ("politics", "economy", "trade", "aid", "infrastructure", "energy", "health",
            "education", "labour", "security", "diplomacy", "agriculture", "tourism", "environment",
            "technology", "courts", "media", "migration", "finance", "culture")
TAGS: tuple[str, ...] = tuple(f"{r} {s}" for r in REGIONS for s in SUBJECTS)  # 200 tags


@dataclass(frozen=True)
class TopicSpec:
    """A topic of the corpus: its digest file and the phrases the generator puts in its stories."""

    slug: str
    title: str
    description: str
    match: dict
    text_phrases: tuple[str, ...]


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec("japan-aid", "Japan aid", "Japanese grants, loans and volunteers in the region.",
              {"phrases": {"Japan": 2, "Japanese": 1, "JICA": 3, "grant aid": 2},
               "require": ["Japan", "Japanese", "JICA"], "exclude": [],
               "aliases": {"JICA": ["Japan International Cooperation Agency"]}, "min_score": 4},
              ("Japan", "JICA", "Japanese grant aid", "Japan International Cooperation Agency")),
    TopicSpec("china-asean", "China–ASEAN relations", "Beijing and the ten ASEAN members.",
              {"phrases": {"China": 1, "Chinese": 1, "ASEAN": 2, "Beijing": 1},
               "require": ["ASEAN", "Association of Southeast Asian Nations"], "exclude": [],
               "aliases": {"ASEAN": ["Asean", "Association of Southeast Asian Nations"]}, "min_score": 4},
              ("ASEAN", "China", "Beijing", "the Association of Southeast Asian Nations", "Chinese")),
    TopicSpec("south-china-sea", "South China Sea", "Claims, patrols and incidents at sea.",
              {"phrases": {"South China Sea": 3, "coast guard": 2, "maritime": 1, "reef": 1},
               "require": [], "exclude": [], "aliases": {}, "min_score": 4},
              ("South China Sea", "coast guard", "maritime", "reef")),
    TopicSpec("mekong", "The Mekong", "Dams, fisheries and water along the Mekong.",
              {"phrases": {"Mekong": 3, "dam": 1, "hydropower": 2, "Tonle Sap": 2},
               "require": [], "exclude": [], "aliases": {"Tonle Sap": ["Tonlé Sap"]}, "min_score": 4},
              ("Mekong", "hydropower", "dam", "Tonle Sap")),
    TopicSpec("elections", "Elections", "Votes, parties and the courts that rule on them.",
              {"phrases": {"election": 2, "ballot": 2, "polls": 1, "voters": 1},
               "require": [], "exclude": ["election of the board"], "aliases": {}, "min_score": 4},
              ("election", "ballot", "polls", "voters")),
    TopicSpec("trade", "Trade", "Tariffs, exports and trade agreements.",
              {"phrases": {"tariff": 2, "exports": 1, "trade deal": 3, "RCEP": 3},
               "require": [], "exclude": [], "aliases": {"RCEP": ["Regional Comprehensive Economic Partnership"]},
               "min_score": 4},
              ("tariff", "exports", "trade deal", "RCEP")),
    TopicSpec("climate", "Climate", "Heat, floods, drought and emissions.",
              {"phrases": {"climate": 2, "flood": 1, "drought": 1, "emissions": 2},
               "require": [], "exclude": ["climate of fear"], "aliases": {}, "min_score": 4},
              ("climate", "drought", "emissions", "flood")),
    TopicSpec("garment-labour", "Garment workers", "Factories, wages and unions.",
              {"phrases": {"garment": 2, "minimum wage": 2, "factory workers": 2, "union": 1},
               "require": [], "exclude": [], "aliases": {}, "min_score": 4},
              ("garment", "minimum wage", "factory workers", "union")),
)


# ---------------------------------------------------------------------------------------------
# Stories


@dataclass(frozen=True)
class GenStory:
    """One generated story, independent of the format it is written in."""

    index: int
    slug: str
    title: str
    date: datetime | None
    date_has_time: bool
    source: str
    source_url: str
    author: str
    summary: str
    tags: tuple[str, ...]
    topics: tuple[str, ...]  # the generator's intent: the peers' categories; digest's rules find their own
    body: str

    @property
    def date_text(self) -> str | None:
        """ISO 8601 date (or datetime with offset), None when undated."""
        if self.date is None:
            return None
        return self.date.isoformat() if self.date_has_time else self.date.date().isoformat()

    @property
    def digest_path(self) -> str:
        """Path of the story file inside a digest site."""
        folder = f"{self.date.year}" if self.date else "undated"
        return f"content/stories/{folder}/{self.slug}.md"


def ascii_slug(text: str, max_words: int = 8) -> str:
    """Lowercase ASCII slug of `text` (accents folded, other scripts dropped)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", folded.lower())
    return "-".join(words[:max_words])


def _words(rng: random.Random, n: int) -> list[str]:
    return rng.choices(VOCAB, cum_weights=CUM_WEIGHTS, k=n)


def _person(rng: random.Random, first: bool) -> str:
    name, native, role = rng.choice(PEOPLE)
    if first and native:
        return f"{name} ({native}), {role},"
    return f"{name}, {role}," if first else name


def _sentence(rng: random.Random, phrases: tuple[str, ...], link_domain: str) -> str:
    words = _words(rng, rng.randint(8, 28))
    roll = rng.random()
    if roll < 0.35 and phrases:
        words.insert(rng.randrange(len(words)), rng.choice(phrases))
    elif roll < 0.55:
        words.insert(rng.randrange(len(words)), rng.choice(PLACES))
    elif roll < 0.62:
        words.insert(rng.randrange(len(words)), rng.choice(ORGS))
    roll = rng.random()
    if roll < 0.06:
        i = rng.randrange(len(words) - 2)
        words[i:i + 3] = [f"[{' '.join(words[i:i + 3])}](https://{link_domain}/news/{rng.randrange(10**6)})"]
    elif roll < 0.12:
        i = rng.randrange(len(words))
        words[i] = f"*{words[i]}*"
    elif roll < 0.14:
        i = rng.randrange(len(words))
        words[i] = f"**{words[i]}**"
    elif roll < 0.18:
        i = rng.randrange(len(words))
        words[i] = f"{rng.choice(PLACES)}'s"
    if rng.random() < 0.25:
        words.insert(rng.randrange(1, len(words)), f"{rng.randint(2, 990)}{rng.choice(('', '%', ' million', ' percent'))},")
    text = " ".join(words)
    return text[0].upper() + text[1:] + ("." if rng.random() < 0.93 else "?")


def _paragraph(rng: random.Random, phrases: tuple[str, ...], domain: str) -> str:
    return " ".join(_sentence(rng, phrases, domain) for _ in range(rng.randint(2, 5)))


def _quote(rng: random.Random, phrases: tuple[str, ...], domain: str, first: bool) -> str:
    said = _sentence(rng, phrases, domain).rstrip(".?")
    who = _person(rng, first).rstrip(",")
    if rng.random() < 0.5:
        return f'> "{said}," said {who}.'
    return f'"{said}," {who} told reporters. ' + _sentence(rng, phrases, domain)


def _list(rng: random.Random, phrases: tuple[str, ...], domain: str) -> str:
    ordered = rng.random() < 0.3
    items = []
    for k in range(rng.randint(3, 6)):
        text = " ".join(_words(rng, rng.randint(4, 14)))
        if rng.random() < 0.3 and phrases:
            text += f" in {rng.choice(phrases)}"
        items.append(f"{k + 1}. {text.capitalize()}" if ordered else f"- {text.capitalize()}")
    return "\n".join(items)


def _table(rng: random.Random) -> str:
    year = rng.randint(2015, 2024)
    cols = ["Country", str(year), str(year + 1), "Change"]
    rows = ["| " + " | ".join(cols) + " |", "| --- | ---: | ---: | ---: |"]
    for place in rng.sample(REGIONS, rng.randint(3, 8)):
        a, b = rng.randint(50, 9000), rng.randint(50, 9000)
        rows.append(f"| {place} | {a:,} | {b:,} | {100 * (b - a) / a:+.1f}% |")
    return "\n".join(rows)


def _heading(rng: random.Random, phrases: tuple[str, ...]) -> str:
    head = " ".join(_words(rng, rng.randint(2, 5)))
    if phrases and rng.random() < 0.5:
        head += f" {rng.choice(phrases)}"
    return "## " + head[0].upper() + head[1:]


def _body(rng: random.Random, target_words: int, phrases: tuple[str, ...], domain: str) -> str:
    blocks: list[str] = []
    words = 0
    quoted = False
    has_table = rng.random() < 0.15
    while words < target_words:
        roll = rng.random()
        if blocks and roll < 0.10:
            block = _quote(rng, phrases, domain, not quoted)
            quoted = True
        elif blocks and roll < 0.15:
            block = _list(rng, phrases, domain)
        elif len(blocks) > 2 and roll < 0.19:
            block = _heading(rng, phrases)
        elif has_table and len(blocks) > 3 and roll < 0.25:
            block = _table(rng)
            has_table = False
        else:
            block = _paragraph(rng, phrases, domain)
        blocks.append(block)
        words += block.count(" ") + 1
    return "\n\n".join(blocks) + "\n"


def _title(rng: random.Random) -> str:
    place, other = rng.sample(PLACES, 2)
    noun, noun2 = rng.sample(NOUNS, 2)
    pattern = rng.randrange(6)
    if pattern == 0:
        return f"{place} {rng.choice(VERBS)} {rng.choice(ADJECTIVES)} {noun} plan"
    if pattern == 1:
        name, native, _ = rng.choice(PEOPLE)
        return f"{native or name}: ‘{noun.capitalize()} won’t hurt {other} ties’"
    if pattern == 2:
        return f"Inside the {rng.choice(ADJECTIVES)} {noun} shaping {place}"
    if pattern == 3:
        return f"{place} and {other} agree on {noun} and {noun2}"
    if pattern == 4:
        return f"Why {place}’s {noun} matters for {other}"
    return f"{rng.choice(ADJECTIVES).capitalize()} {noun} in {place} as {noun2} {rng.choice(VERBS)} {other}"


_EPOCH = datetime(2014, 1, 1, tzinfo=timezone.utc)
_SPAN_DAYS = 12 * 365
_OFFSETS = (timezone(timedelta(hours=7)), timezone(timedelta(hours=8)), timezone(timedelta(hours=9)), timezone.utc)
_TAG_WEIGHTS = tuple(1.0 / (r + 5) for r in range(len(TAGS)))


def make_story(seed: int, index: int) -> GenStory:
    """Story number `index` of the corpus of `seed` (depends on nothing else)."""
    rng = random.Random(seed * 1_000_003 + index)
    title = _title(rng)
    slug = f"{ascii_slug(title) or 'story'}-{index}"
    date, has_time = None, False
    if rng.random() >= 0.03:  # 3 % undated, as scraped text often is
        day = _EPOCH + timedelta(days=rng.randrange(_SPAN_DAYS))
        has_time = rng.random() < 0.4
        if has_time:
            day = day.replace(hour=rng.randrange(24), minute=rng.randrange(60), tzinfo=rng.choice(_OFFSETS))
        date = day
    source, domain = rng.choice(OUTLETS)
    n_topics = rng.choices((0, 1, 2, 3), weights=(15, 55, 25, 5))[0]
    topics = tuple(sorted(rng.sample(range(len(TOPICS)), n_topics)))
    phrases = tuple(p for t in topics for p in TOPICS[t].text_phrases)
    tag_order = random.Random(seed).sample(TAGS, len(TAGS))  # popularity of tags differs by seed
    tags: list[str] = []
    for tag in rng.choices(tag_order, weights=_TAG_WEIGHTS, k=rng.randint(2, 6)):
        if tag not in tags:
            tags.append(tag)
    sigma = 0.55
    target = int(min(6000, max(150, rng.lognormvariate(math.log(855) - sigma * sigma / 2, sigma))))
    body = _body(rng, target, phrases, domain)
    summary = " ".join(_sentence(rng, phrases, domain) for _ in range(2))
    summary = re.sub(r"\[([^\]]*)\]\([^)]*\)|\*+", lambda m: m.group(1) or "", summary)
    return GenStory(
        index=index, slug=slug, title=title, date=date, date_has_time=has_time, source=source,
        source_url=f"https://www.{domain}/news/{slug}", author=rng.choice(AUTHORS), summary=summary,
        tags=tuple(tags), topics=tuple(TOPICS[t].slug for t in topics), body=body)


def topic_intro(spec: TopicSpec) -> str:
    """The editor's introduction of a topic page (Markdown)."""
    rng = random.Random(spec.slug)
    return (f"{spec.description} This page gathers the stories of the digest about "
            f"{spec.title.lower()}, newest first.\n\n" + _paragraph(rng, spec.text_phrases, "digest.example") + "\n")


# ---------------------------------------------------------------------------------------------
# Writers


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def digest_story_text(s: GenStory, topics: bool = False) -> str:
    """The story as a digest Markdown file with YAML front matter. Without `topics` it names no
    topics (digest's rules assign them); with it, `topics:` lists those the peers get as
    categories (digest's rules then do not run for it)."""
    lines = ["---", f"title: {_q(s.title)}"]
    if s.date_text:
        lines.append(f"date: {s.date_text}")
    lines += [f"source: {_q(s.source)}", f"source_url: {s.source_url}", f"author: {_q(s.author)}",
              f"summary: {_q(s.summary)}", "tags: [" + ", ".join(_q(t) for t in s.tags) + "]"]
    if topics:
        lines.append("topics: [" + ", ".join(_q(t) for t in s.topics) + "]")
    lines += ["---", ""]
    return "\n".join(lines) + s.body


def hugo_story_text(s: GenStory) -> str:
    """The story as a Hugo content file (tags and categories taxonomies)."""
    lines = ["---", f"title: {_q(s.title)}", f"slug: {s.slug}"]
    if s.date_text:
        lines.append(f"date: {s.date_text}")
    lines += [f"summary: {_q(s.summary)}", "tags: [" + ", ".join(_q(t) for t in s.tags) + "]",
              "categories: [" + ", ".join(_q(t) for t in s.topics) + "]",
              "params:", f"  source: {_q(s.source)}", f"  source_url: {s.source_url}",
              f"  author: {_q(s.author)}", "---", ""]
    return "\n".join(lines) + s.body


def pelican_story_text(s: GenStory) -> str:
    """The story as a Pelican Markdown file (one category: the first topic)."""
    lines = [f"Title: {s.title}", f"Slug: {s.slug}"]
    if s.date_text:
        lines.append(f"Date: {s.date_text}")
    lines += [f"Category: {s.topics[0] if s.topics else 'uncategorized'}", "Tags: " + ", ".join(s.tags),
              f"Author: {s.author}", f"Summary: {s.summary}", f"Source: {s.source}",
              f"Source_url: {s.source_url}", ""]
    return "\n".join(lines) + "\n" + s.body


DIGEST_TOML = """title = "Bench Digest"
description = "A generated corpus for the digest benchmark."
language = "en"
base_url = "https://bench.example/"
"""


STORY_WRITERS = {
    "digest": (lambda s: s.digest_path, digest_story_text),
    "hugo": (lambda s: f"content/posts/{s.slug}.md", hugo_story_text),
    "pelican": (lambda s: f"content/{s.slug}.md", pelican_story_text),
    "plain": (lambda s: s.digest_path, digest_story_text),  # bench/plain_loop.py reads digest's format
}
TEMPLATE_TO_EDIT = {"digest": None, "hugo": "layouts/_default/single.html", "pelican": "theme/templates/article.html",
                    "plain": "templates/story.html"}


def write_digest_frame(root: Path, config_extra: str = "") -> None:
    """A digest site's files other than stories: digest.toml and content/topics/*.md."""
    _write(root / "digest.toml", DIGEST_TOML + config_extra)
    for spec in TOPICS:
        meta = {"title": spec.title, "description": spec.description, "match": spec.match}
        front = "\n".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in meta.items())
        _write(root / f"content/topics/{spec.slug}.md", f"---\n{front}\n---\n\n{topic_intro(spec)}")


def write_hugo_frame(root: Path) -> None:
    """A Hugo site's files other than stories: bench/peers/hugo and one term page per topic."""
    shutil.copytree(PEERS_DIR / "hugo", root, dirs_exist_ok=True)
    for spec in TOPICS:
        _write(root / f"content/categories/{spec.slug}/_index.md",
               f"---\ntitle: {_q(spec.title)}\nslug: {spec.slug}\ndescription: {_q(spec.description)}\n---\n\n"
               + topic_intro(spec))


def write_pelican_frame(root: Path) -> None:
    """A Pelican site's files other than stories: bench/peers/pelican plus TOPICS in its config."""
    shutil.copytree(PEERS_DIR / "pelican", root, dirs_exist_ok=True)
    topics = {spec.slug: [spec.title, topic_intro(spec)] for spec in TOPICS}
    with open(root / "pelicanconf.py", "a", encoding="utf-8") as conf:
        conf.write(f"\nTOPICS = {json.dumps(topics, ensure_ascii=False)}\n")


def write_plain_frame(root: Path) -> None:
    """The plain loop's site files other than stories: its templates (bench/peers/plain)."""
    shutil.copytree(PEERS_DIR / "plain", root, dirs_exist_ok=True)


def write_stories(roots: dict[str, Path], seed: int, start: int, stop: int, digest_topics: bool = False) -> int:
    """Write stories start..stop-1 into each site of `roots` (format name -> site folder);
    `digest_topics`: digest's stories list their topics (see `digest_story_text`)."""
    for i in range(start, stop):
        s = make_story(seed, i)
        for fmt, root in roots.items():
            path_of, text_of = STORY_WRITERS[fmt]
            _write(root / path_of(s), text_of(s, True) if fmt == "digest" and digest_topics else text_of(s))
    return stop - start


def _write_chunk(job: tuple[dict[str, Path], int, int, int, bool]) -> int:
    return write_stories(*job)


def _write_manifest(root: Path, tool: str, seed: int, n: int) -> None:
    edited = make_story(seed, n // 2)
    manifest = {"tool": tool, "seed": seed, "stories": n, "edit_story": STORY_WRITERS[tool][0](edited),
                "edit_template": TEMPLATE_TO_EDIT[tool]}
    _write(root / MANIFEST, json.dumps(manifest, indent=2) + "\n")


def generate(out: Path, stories: int, seed: int, hugo: Path | None = None, pelican: Path | None = None,
             digest_config_extra: str = "", jobs: int = 1, digest_topics: bool = False) -> None:
    """Write the digest site to `out` and, when given, the Hugo and Pelican sites (`jobs` processes);
    `digest_topics`: digest's stories list their topics (see `digest_story_text`)."""
    roots = {"digest": out}
    write_digest_frame(out, digest_config_extra)
    if hugo is not None:
        roots["hugo"] = hugo
        write_hugo_frame(hugo)
    if pelican is not None:
        roots["pelican"] = pelican
        write_pelican_frame(pelican)
    _write_sites(roots, stories, seed, jobs, digest_topics)


def rewrite_digest_stories(root: Path, stories: int, seed: int, digest_topics: bool, jobs: int = 1) -> None:
    """Write the digest site's stories at `root` again, with or without their topics in front
    matter (`digest_story_text`); its other files are left as they are."""
    _write_sites({"digest": root}, stories, seed, jobs, digest_topics)


def generate_plain(root: Path, stories: int, seed: int, jobs: int = 1) -> None:
    """Write the plain loop's site (bench/plain_loop.py): digest's story files and the plain templates."""
    write_plain_frame(root)
    _write_sites({"plain": root}, stories, seed, jobs)


def _write_sites(roots: dict[str, Path], stories: int, seed: int, jobs: int, digest_topics: bool = False) -> None:
    """Every story into each site of `roots` (format name -> folder), then each site's manifest."""
    step = 500
    chunks = [(roots, seed, a, min(a + step, stories), digest_topics) for a in range(0, stories, step)]
    if jobs > 1 and len(chunks) > 1:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            sum(pool.imap_unordered(_write_chunk, chunks))
    else:
        for chunk in chunks:
            _write_chunk(chunk)
    for tool, root in roots.items():
        _write_manifest(root, tool, seed, stories)


# ---------------------------------------------------------------------------------------------
# Mutations: one edited story, one edited template (and their undoing)


def read_manifest(site: Path) -> dict:
    """The `.bench.json` of a generated site."""
    return json.loads((site / MANIFEST).read_text(encoding="utf-8"))


def edit_story(site: Path, revision: int) -> Path:
    """Append a correction paragraph (numbered `revision`) to the site's chosen story; its path."""
    path = site / read_manifest(site)["edit_story"]
    text = _strip_story_edit(path.read_text(encoding="utf-8"))
    path.write_text(text + f"\n{STORY_EDIT_MARK} {revision}): an earlier version of this story "
                    "misstated the size of the loan.*\n", encoding="utf-8")
    return path


def _strip_story_edit(text: str) -> str:
    return re.sub(r"\n" + re.escape(STORY_EDIT_MARK) + r" \d+\).*\n", "", text)


def edit_lede(site: Path, revision: int) -> Path:
    """Put a corrected sentence (numbered `revision`) at the start of the chosen story's first
    paragraph, the text that related stories are computed from; its path."""
    path = site / read_manifest(site)["edit_story"]
    text = _strip_lede_edit(path.read_text(encoding="utf-8"))
    at = _body_start(text)
    path.write_text(text[:at] + f"{LEDE_EDIT_MARK} {revision}): the talks began a day earlier than first "
                    "reported. " + text[at:], encoding="utf-8")
    return path


def _body_start(text: str) -> int:
    """Where the body of a story file begins: after YAML front matter (digest, Hugo) or after
    Pelican's metadata lines, and the blank lines that follow."""
    end = text.index("\n---\n", 4) + 5 if text.startswith("---\n") else text.index("\n\n") + 2
    while text[end:end + 1] == "\n":
        end += 1
    return end


def _strip_lede_edit(text: str) -> str:
    return re.sub(re.escape(LEDE_EDIT_MARK) + r" \d+\): [^.]*\. ", "", text)


def edit_template(site: Path, revision: int, digest_template: Path | None = None) -> Path:
    """Add a visible paragraph to the story-page template; returns the edited file.

    For digest, `digest_template` is the default theme's story template: it is copied into the
    site's own `templates/` (which overrides the default theme file by file) and edited there.
    """
    manifest = read_manifest(site)
    if manifest["tool"] == "digest":
        if digest_template is None:
            raise ValueError("digest needs the default theme's story template to edit")
        path = site / "templates" / digest_template.name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(digest_template, path)
    else:
        path = site / manifest["edit_template"]
    text = _strip_template_edit(path.read_text(encoding="utf-8"))
    path.write_text(_insert_line(text, f"{TEMPLATE_EDIT_MARK} {revision}</p>"), encoding="utf-8")
    return path


def _strip_template_edit(text: str) -> str:
    return re.sub(re.escape(TEMPLATE_EDIT_MARK) + r" \d+</p>\n", "", text)


def _insert_line(text: str, line: str) -> str:
    """Put `line` where it is rendered: before </body>, </main> or </article>, else in the first block."""
    for anchor in ("</body>", "</main>", "</article>", "{% endblock"):
        at = text.rfind(anchor) if anchor != "{% endblock" else text.find(anchor)
        if at >= 0:
            return text[:at] + line + "\n" + text[at:]
    return text + line + "\n"


def restore(site: Path) -> None:
    """Undo `edit_story` and `edit_template`. For digest the template override that `edit_template`
    copied from the theme is removed: a copy kept from an earlier run would pin the site to that
    run's theme, and later runs would measure an old story template."""
    manifest = read_manifest(site)
    story = site / manifest["edit_story"]
    story.write_text(_strip_lede_edit(_strip_story_edit(story.read_text(encoding="utf-8"))), encoding="utf-8")
    if manifest["tool"] == "digest":
        shutil.rmtree(site / "templates", ignore_errors=True)  # the generator writes no templates of its own
        return
    if manifest["edit_template"]:
        path = site / manifest["edit_template"]
        path.write_text(_strip_template_edit(path.read_text(encoding="utf-8")), encoding="utf-8")


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Command line of the generator."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="the digest site folder")
    parser.add_argument("--hugo", type=Path, help="also write the corpus as a Hugo site here")
    parser.add_argument("--pelican", type=Path, help="also write the corpus as a Pelican site here")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    args = parser.parse_args(argv)
    for folder in (args.out, args.hugo, args.pelican):
        if folder is not None and folder.exists() and any(folder.iterdir()):
            print(f"generate.py: {folder} is not empty", file=sys.stderr)
            return 2
    generate(args.out, args.stories, args.seed, args.hugo, args.pelican, jobs=args.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
