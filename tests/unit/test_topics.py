"""Topic rules: parsing `match:`, assigning topics, explaining scores."""

from __future__ import annotations

import random

import pytest

from digest.errors import ContentError
from digest.model import Story, Topic, TopicRules
from digest.topics import assign_topics, explain, normalise, parse_rules


def story(slug: str, title: str, body: str = "", topics=None, summary=None) -> Story:
    return Story(slug=slug, title=title, path=f"content/stories/{slug}.md", body=body, topics=topics, summary=summary)


def topic(slug: str, match: dict | None) -> Topic:
    rules = None if match is None else parse_rules(match, f"content/topics/{slug}.md", 4)
    return Topic(slug=slug, title=slug.title(), path=f"content/topics/{slug}.md", body="", rules=rules)


# --------------------------------------------------------------------------- parse_rules


def test_parse_full_schema():
    rules = parse_rules(
        {
            "phrases": {"Japan": 2, "JICA": 3, "official development assistance": 2.5},
            "require": ["Japan"],
            "exclude": "Japan Airlines",
            "aliases": {"Japan": ["Nippon", "Tokyo"]},
            "min_score": 4,
        },
        "content/topics/japan-aid.md",
        3,
    )
    assert rules == TopicRules(
        phrases=(("Japan", 2.0), ("JICA", 3.0), ("official development assistance", 2.5)),
        require=("Japan",),
        exclude=("Japan Airlines",),
        aliases=(("Japan", ("Nippon", "Tokyo")),),
        min_score=4.0,
    )


def test_parse_phrase_list_means_weight_one_and_default_min_score():
    rules = parse_rules({"phrases": ["Quad", "Indo-Pacific"]}, "t.md", 2)
    assert rules.phrases == (("Quad", 1.0), ("Indo-Pacific", 1.0))
    assert rules.min_score == 1.0


def test_parse_require_alone_applies_on_presence():
    rules = parse_rules({"require": ["ASEAN"]}, "t.md", 2)
    assert rules.min_score == 0.0
    t = Topic("asean", "ASEAN", "t.md", "", rules=rules)
    got = assign_topics([story("a", "ASEAN meets"), story("b", "Nothing")], [t])
    assert got == {"a": ("asean",), "b": ()}


@pytest.mark.parametrize(
    "raw, message",
    [
        (["Japan"], "t.md:7: match: expected a mapping with keys phrases, require, exclude, aliases, min_score, got list"),
        ({"phrase": {"Japan": 1}}, "t.md:7: match: unknown key 'phrase' (expected one of: phrases, require, exclude, aliases, min_score)"),
        ({"phrases": {"Japan": "high"}}, "t.md:7: match.phrases: weight of 'Japan': expected a number, got 'high'"),
        ({"phrases": {"Japan": True}}, "t.md:7: match.phrases: weight of 'Japan': expected a number, got True"),
        ({"phrases": "Japan"}, "t.md:7: match.phrases: expected a mapping of phrase to weight, got str"),
        ({"phrases": {"Japan": 1, "JAPAN": 2}}, "t.md:7: match.phrases: 'JAPAN' is the same phrase as 'Japan'"),
        ({"phrases": {"--": 1}}, "t.md:7: match.phrases: phrase '--' has no letters or digits"),
        ({"phrases": {"Japan": 1}, "require": 5}, "t.md:7: match.require: expected a phrase or a list of phrases, got int"),
        ({"phrases": {"Japan": 1}, "exclude": [""]}, "t.md:7: match.exclude: expected a phrase (a non-empty string), got ''"),
        ({"phrases": {"Japan": 1}, "aliases": ["x"]}, "t.md:7: match.aliases: expected a mapping of phrase to other spellings, got list"),
        ({"phrases": {"Japan": 1}, "aliases": {"China": ["PRC"]}}, "t.md:7: match.aliases: 'China' is not a phrase of this topic (in phrases, require or exclude)"),
        ({"phrases": {"Japan": 1}, "aliases": {"Japan": 3}}, "t.md:7: match.aliases: 'Japan': expected a phrase or a list of phrases, got int"),
        ({"phrases": {"Japan": 1}, "min_score": 0}, "t.md:7: match.min_score: must be greater than 0, got 0"),
        ({"phrases": {"Japan": 1}, "min_score": "4"}, "t.md:7: match.min_score: expected a number, got '4'"),
        ({"require": ["Japan"], "min_score": 2}, "t.md:7: match.min_score: a topic without phrases has no score; remove min_score or add phrases"),
        ({}, "t.md:7: match: needs phrases or require (or both)"),
    ],
)
def test_parse_errors_name_the_key(raw, message):
    with pytest.raises(ContentError) as err:
        parse_rules(raw, "t.md", 7)
    assert [str(p) for p in err.value.problems] == [message]


# --------------------------------------------------------------------------- matching


def test_normalise_folds_case_and_accents():
    assert normalise("Hà Nội ÉCOLE Straße") == "ha noi ecole strasse"


def test_whole_words_case_and_accent_insensitive():
    t = topic("vn", {"phrases": {"Ha Noi": 2, "Viet Nam": 2}, "min_score": 4})
    stories = [
        story("a", "HÀ NỘI talks", "Officials of Việt Nam met."),  # 2*2 (title) + 2 = 6
        story("b", "Hanoi talks", "Vietnamese officials met."),  # no whole-word match
        story("c", "Talks", "In Ha Noi."),  # 2 < 4
    ]
    assert assign_topics(stories, [t]) == {"a": ("vn",), "b": (), "c": ()}


def test_counts_are_capped_so_one_repeated_word_is_not_enough():
    t = topic("x", {"phrases": {"China": 1, "ASEAN": 2}, "min_score": 5})
    only_china = story("a", "t", "China " * 40)  # 1 * min(40, 3) = 3
    both = story("b", "t", "China China China ASEAN")  # 3 + 2 = 5
    assert assign_topics([only_china, both], [t]) == {"a": (), "b": ("x",)}


def test_aliases_count_as_the_phrase_and_share_the_cap():
    t = topic("cn", {"phrases": {"China": 2}, "aliases": {"China": ["PRC", "Beijing"]}, "min_score": 6})
    s = story("a", "t", "The PRC and Beijing; China.")
    [e] = explain(s, [t])
    assert e.score == 6 and e.matches
    [rule] = e.rules
    assert rule.count == 3 and dict(rule.spellings) == {"China": 1, "PRC": 1, "Beijing": 1}
    assert assign_topics([story("b", "t", "PRC PRC PRC PRC Beijing")], [t]) == {"b": ("cn",)}
    assert explain(story("b", "t", "PRC PRC PRC PRC Beijing"), [t])[0].score == 6


def test_require_and_exclude():
    t = topic("jp", {"phrases": {"aid": 3, "Japan": 1}, "require": ["Japan", "JICA"], "exclude": ["Japan Airlines"], "min_score": 3})
    stories = [
        story("a", "t", "Aid from JICA."),
        story("b", "t", "Aid from the World Bank."),  # no required phrase
        story("c", "t", "Japan aid; Japan Airlines flew it."),  # excluded
    ]
    assert assign_topics(stories, [t]) == {"a": ("jp",), "b": (), "c": ()}
    reasons = {s.slug: explain(s, [t])[0].reason for s in stories}
    assert reasons["b"] == "no required phrase"
    assert reasons["c"] == "excluded by 'Japan Airlines'"


def test_front_matter_topics_win_and_empty_means_none():
    t = topic("jp", {"phrases": {"Japan": 5}})
    stories = [
        story("auto", "Japan"),
        story("none", "Japan", topics=()),
        story("manual", "Nothing here", topics=("other", "jp")),
    ]
    assert assign_topics(stories, [t]) == {"auto": ("jp",), "none": (), "manual": ("other", "jp")}
    [e] = explain(stories[1], [t])
    assert e.matches and not e.assigned and e.reason.startswith("not listed in the story's front matter topics")


def test_topics_without_rules_are_never_automatic_and_order_is_best_first():
    topics = [topic("b-low", {"phrases": {"Japan": 1}}), topic("a-high", {"phrases": {"Japan": 3}}), topic("c-rules-less", None), topic("a-tie", {"phrases": {"Japan": 3}})]
    assert assign_topics([story("s", "t", "Japan")], topics) == {"s": ("a-high", "a-tie", "b-low")}
    assert [e.topic for e in explain(story("s", "t", "Japan"), topics)] == ["a-high", "a-tie", "b-low", "c-rules-less"]


def test_summary_counts_and_possessive_matches():
    t = topic("jp", {"phrases": {"Japan": 2}, "min_score": 4})
    assert assign_topics([story("s", "t", "Japan's plan", summary="About Japan")], [t]) == {"s": ("jp",)}



# --------------------------------------------------------------------------- `digest topics` (CLI)

import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def write_site(root: Path) -> None:
    (root / "digest.toml").write_text("")
    (root / "content" / "stories").mkdir(parents=True)
    (root / "content" / "topics").mkdir(parents=True)
    (root / "content" / "topics" / "japan-aid.md").write_text(
        "---\ntitle: Japan aid\nmatch:\n  phrases: {JICA: 3, aid: 2}\n  require: [Japan]\n"
        "  aliases: {Japan: [Japanese]}\n  min_score: 4\n---\nIntro.\n")
    (root / "content" / "topics" / "quad.md").write_text("---\ntitle: The Quad\n---\nNo rules.\n")
    stories = {
        "a": "---\ntitle: Japanese aid to Cambodia\ndate: 2024-01-02\n---\nJICA signed loans; aid flows.\n",
        "b": "---\ntitle: Rice prices\ndate: 2024-01-03\n---\nNothing about donors.\n",
        "c": "---\ntitle: Quad summit\ndate: 2024-01-04\ntopics: [quad]\n---\nJapan aid via JICA.\n",
        "d": "---\ntitle: Japan aid draft\ndate: 2024-01-05\ndraft: true\n---\nJapan aid JICA.\n",
    }
    for slug, text in stories.items():
        (root / "content" / "stories" / f"{slug}.md").write_text(text)


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "digest", "topics", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def test_cli_topics_counts(tmp_path):
    write_site(tmp_path)
    run = cli(cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].split() == ["topic", "stories", "(by", "rules)", "title"]
    assert lines[1].split() == ["japan-aid", "1", "1", "Japan", "aid"]  # c's front matter wins; d is a draft
    assert lines[2].split() == ["quad", "1", "0", "The", "Quad", "[no", "rules]"]
    assert lines[3].split() == ["(no", "topic)", "1"]
    assert lines[4] == "3 stories, 2 topics"
    assert cli("--drafts", cwd=tmp_path).stdout.splitlines()[1].split()[:2] == ["japan-aid", "2"]


def test_cli_topics_explain(tmp_path):
    write_site(tmp_path)
    run = cli("--explain", "a", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "topics: japan-aid  [from topic rules]" in out
    assert "yes japan-aid (Japan aid): score 9, minimum 4; score 9 reaches minimum 4" in out
    assert "phrase   'JICA' weight 3: 1 -> 3 points  (JICA x1)" in out
    assert "phrase   'aid' weight 2: 3 -> 6 points  (aid x3)" in out  # once in the title, counted double
    assert "require  'Japan': Japanese x2" in out
    assert "no  quad (The Quad): no rules\n" in out
    by_path = cli("--explain", "content/stories/c.md", cwd=tmp_path)
    assert "topics: quad  [from front matter `topics`]" in by_path.stdout
    assert "no  japan-aid (Japan aid): score 5, minimum 4; not listed in the story's front matter topics" in by_path.stdout


def test_cli_topics_explain_unknown_story_is_a_usage_error(tmp_path):
    write_site(tmp_path)
    run = cli("--explain", "nope", cwd=tmp_path)
    assert run.returncode == 2
    assert "no story with slug or path 'nope'" in run.stderr


def test_cli_topics_bad_rule_is_reported_at_its_line(tmp_path):
    write_site(tmp_path)
    (tmp_path / "content" / "topics" / "bad.md").write_text("---\ntitle: Bad\nmatch:\n  phrases: {Japan: high}\n---\n")
    run = cli(cwd=tmp_path)
    assert run.returncode == 1
    assert "content/topics/bad.md:3: match.phrases: weight of 'Japan': expected a number, got 'high'" in run.stderr
