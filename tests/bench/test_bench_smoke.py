"""Smoke run of the benchmark harness (bench/run.py) at 100 stories: no timing assertions.

digest must build; Hugo and Pelican are measured when installed and otherwise reported as absent
(the test prints the harness's table, whose `absent:` line names them), never skipped.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402
import run  # noqa: E402

STORIES = 100
SEED = 3


def test_generator_is_seeded_and_complete(tmp_path: Path) -> None:
    generate.generate(tmp_path / "a", 40, SEED, hugo=tmp_path / "h", pelican=tmp_path / "p")
    generate.generate(tmp_path / "b", 40, SEED, jobs=2)
    stories_a = sorted((tmp_path / "a/content/stories").rglob("*.md"))
    stories_b = sorted((tmp_path / "b/content/stories").rglob("*.md"))
    assert len(stories_a) == 40
    assert [p.read_bytes() for p in stories_a] == [p.read_bytes() for p in stories_b]
    assert len(list((tmp_path / "a/content/topics").glob("*.md"))) == 8
    assert len(list((tmp_path / "h/content/posts").glob("*.md"))) == 40
    assert len(list((tmp_path / "p/content").glob("*.md"))) == 40
    story = generate.make_story(SEED, 7)
    assert story == generate.make_story(SEED, 7)
    assert story.body in (tmp_path / "a" / story.digest_path).read_text(encoding="utf-8")
    assert story.body in (tmp_path / "p/content" / f"{story.slug}.md").read_text(encoding="utf-8")
    # the edits are visible and undone by restore
    site = tmp_path / "h"
    edited = generate.edit_story(site, 5)
    assert "bench revision 5)" in edited.read_text(encoding="utf-8")
    template = generate.edit_template(site, 5)
    assert "bench template edit 5" in template.read_text(encoding="utf-8")
    generate.restore(site)
    assert "bench revision" not in edited.read_text(encoding="utf-8")
    assert "bench template edit" not in template.read_text(encoding="utf-8")


def test_digest_template_edit_uses_the_current_theme_each_run(tmp_path: Path) -> None:
    """The story template the `template` scenario edits is a copy of the theme's, made afresh in
    each run: a copy kept from an earlier run would pin later runs to that run's theme."""
    generate.generate(tmp_path / "d", 5, SEED)
    theme = tmp_path / "theme_story.html"
    theme.write_text("<main>old theme</main>\n", encoding="utf-8")
    edited = generate.edit_template(tmp_path / "d", 1, theme)
    assert "old theme" in edited.read_text(encoding="utf-8")
    generate.restore(tmp_path / "d")
    assert not edited.exists()
    theme.write_text("<main>new theme</main>\n", encoding="utf-8")
    again = generate.edit_template(tmp_path / "d", 2, theme)
    assert "new theme" in again.read_text(encoding="utf-8") and "bench template edit 2" in again.read_text(encoding="utf-8")


def test_harness_smoke_100_stories(tmp_path: Path) -> None:
    report = run.run_benchmark([STORIES], reps=1, tools=run.TOOLS, seed=SEED, work=tmp_path)
    text = run.format_markdown(report)
    print(text)  # the table, with an `absent:` line naming any peer that is not installed

    assert "digest" not in report.absent, report.absent.get("digest")
    measured = {r.tool for r in report.runs}
    assert measured | set(report.absent) == set(run.TOOLS)
    for peer in report.absent:
        assert f"{peer}: not installed" in text
    assert {r.scenario for r in report.runs} == set(run.SCENARIOS)

    for run_ in report.runs:
        assert run_.returncode == 0, f"{run_.tool} {run_.scenario}: {run_.error}"
        assert run_.wall > 0 and run_.peak_tree_mb > 1 and run_.max_proc_mb > 1
        assert run_.pages and run_.pages > STORIES  # story pages plus tag, topic and index pages
        if run_.scenario in ("story", "lede", "template"):
            assert run_.ok, f"{run_.tool}: the {run_.scenario} edit did not reach the story page"

    rows = run.summarize(report)
    assert len(rows) == len(measured) * len(run.SCENARIOS)
    for row in rows:
        if row["tool"] != "digest":
            assert row["ratio_wall"] > 0
    # every story has its page in every tool's output
    slugs = [generate.make_story(SEED, i).slug for i in range(STORIES)]
    for tool_name in measured:
        out = tmp_path / f"s{SEED}-n{STORIES}" / tool_name / ("public" if tool_name == "hugo" else "output")
        missing = [s for s in slugs if not (out / "stories" / s / "index.html").is_file()]
        assert not missing, f"{tool_name}: no page for {missing[:3]}"
    assert "| 100 | cold | digest |" in text


def test_rebuild_scenarios_alone_measure_a_rebuild(tmp_path: Path) -> None:
    """`--scenarios story` without `cold`: the site is built once, untimed, so the timed build is
    the rebuild after one edit (it was a first build with nothing to reuse, and looked slow)."""
    report = run.run_benchmark([STORIES], reps=1, tools=("digest",), scenarios=("story",), seed=SEED, work=tmp_path)
    (story,) = report.runs
    assert story.returncode == 0 and story.ok and story.warmed
    assert "built the site once, untimed" in run.format_markdown(report)
    cache = tmp_path / f"s{SEED}-n{STORIES}" / "digest" / ".digest" / "cache"
    assert list(cache.glob("*.delta")), "the timed build saved a delta of the edited story: a rebuild"


def test_the_digest_snapshot_is_byte_compiled(tmp_path: Path) -> None:
    """The measured copy of digest carries its bytecode, as an installed package does (where
    PYTHONDONTWRITEBYTECODE is set, a copy without it would compile every module at every run)."""
    root, _ = run.snapshot_digest(tmp_path)
    modules = sorted(p.stem for p in (root / "digest").glob("*.py"))
    compiled = {p.name.split(".")[0] for p in (root / "digest" / "__pycache__").glob("*.pyc")}
    assert modules and set(modules) <= compiled


def test_the_lede_edit_goes_first_in_the_body_and_is_undone(tmp_path: Path) -> None:
    """`lede` puts its sentence at the start of the chosen story's first paragraph, for every
    tool's file format, and `restore` gives back the original bytes."""
    generate.generate(tmp_path / "digest", 40, SEED, hugo=tmp_path / "hugo", pelican=tmp_path / "pelican")
    for tool in ("digest", "hugo", "pelican"):
        site = tmp_path / tool
        story = site / generate.read_manifest(site)["edit_story"]
        before = story.read_bytes()
        generate.edit_lede(site, 1)
        generate.edit_lede(site, 2)  # a second edit replaces the first
        text = story.read_text(encoding="utf-8")
        assert text.count("bench lede") == 1
        body = text[generate._body_start(text):]
        assert body.startswith("Corrected (bench lede 2): ")
        generate.restore(site)
        assert story.read_bytes() == before


def test_a_corpus_is_reused_for_fewer_tools_and_another_profile(tmp_path: Path) -> None:
    """Generating 10,000 stories for three tools takes minutes: a run with a subset of the tools,
    or another digest profile, reuses the stories and rewrites only digest.toml."""
    sites = run.prepare_corpus(tmp_path, 12, 3, ("digest", "hugo"), "full")
    story = next((sites["digest"] / "content").rglob("*.md"))
    story.write_text(story.read_text(encoding="utf-8") + "\nmarker\n", encoding="utf-8")  # survives a reuse only
    again = run.prepare_corpus(tmp_path, 12, 3, ("digest",), "minimal")
    assert again["digest"] == sites["digest"] and story.read_text(encoding="utf-8").endswith("marker\n")
    config = (sites["digest"] / "digest.toml").read_text(encoding="utf-8")
    assert config.endswith(run.PROFILES["minimal"])
    run.prepare_corpus(tmp_path, 12, 3, ("digest", "pelican"), "minimal")  # pelican was never made: generated
    assert "marker" not in story.read_text(encoding="utf-8") and (tmp_path / "s3-n12" / "pelican").is_dir()


def test_the_fair_memory_sampler_measures_a_build(tmp_path: Path) -> None:
    """bench/pss_peak.py runs one build and reports its tree's peak proportional set size."""
    import re
    import subprocess

    generate.generate(tmp_path / "digest", 30, SEED)
    done = subprocess.run([sys.executable, str(BENCH / "pss_peak.py"), "--site", str(tmp_path / "digest")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    peak = re.search(r"peak PSS of the process tree (\d+) MB", done.stdout)
    assert peak is not None and int(peak.group(1)) > 10, done.stdout
    assert (tmp_path / "digest" / "output" / "index.html").is_file()


def test_settle_waits_between_deleting_the_output_and_a_cold_build(tmp_path: Path) -> None:
    """`--settle`: each cold build starts that long after its output was deleted, and the report says so."""
    import time

    run.run_benchmark([STORIES], reps=1, tools=("digest",), scenarios=("cold",), seed=SEED, work=tmp_path)
    started = time.monotonic()
    report = run.run_benchmark([STORIES], reps=1, tools=("digest",), scenarios=("cold",), seed=SEED, work=tmp_path,
                               settle=1.5)
    (cold,) = report.runs
    assert cold.returncode == 0
    assert time.monotonic() - started >= 1.5 + cold.wall  # the wait is not part of the measured build
    assert "started 1.5 s after its output was deleted" in run.format_markdown(report)
    assert "after its output was deleted" not in run.format_markdown(
        run.run_benchmark([STORIES], reps=1, tools=("digest",), scenarios=("cold",), seed=SEED, work=tmp_path))


def test_the_matched_peer_workload_adds_related_stories_and_a_sitemap(tmp_path: Path) -> None:
    """`--peers matched` with the full profile: each peer installed builds its related stories on
    its story pages and a sitemap; back to `minimal`, neither. A peer not installed is reported
    absent (its config is still written)."""
    import subprocess

    sites = run.prepare_corpus(tmp_path, 30, SEED, ("hugo", "pelican"), "full")
    tools, absent = run.find_tools(("hugo", "pelican"))
    assert set(tools) | set(absent) == {"hugo", "pelican"}

    def build(name: str) -> Path:
        tool = tools[name]
        out = sites[name] / tool.output
        subprocess.run(["rm", "-rf", str(out)], check=True)
        command = [part.replace("{site}", str(sites[name])) for part in tool.command]
        done = subprocess.run(command, cwd=sites[name], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        return out

    for workload, expected in (("matched", True), ("minimal", False)):
        notes = run.configure_peers(sites, "full", workload)
        hugo_config = (sites["hugo"] / "hugo.toml").read_text(encoding="utf-8")
        pelican_config = (sites["pelican"] / "pelicanconf.py").read_text(encoding="utf-8")
        assert ("related = true" in hugo_config) is expected and ('"sitemap"' in hugo_config) is not expected
        assert ('"related_posts"' in pelican_config) is (expected and "pelican" not in notes)
        for name in tools:
            if name in notes:
                continue
            out = build(name)
            pages = sorted((out / "stories").glob("*/index.html"))
            related = [p for p in pages if "<h2>Related</h2>" in p.read_text(encoding="utf-8")]
            assert len(pages) == 30
            # most story pages list some (Hugo's default lists only older stories: not the newest)
            assert (len(related) >= 20) is expected and (not related) is (not expected), name
            assert (out / "sitemap.xml").is_file() is expected, name
    assert run.configure_peers(sites, "minimal", "matched") == {}  # minimal profile: nothing to match
    assert "related = true" not in (sites["hugo"] / "hugo.toml").read_text(encoding="utf-8")


def test_the_file_system_churn_probe_makes_and_deletes_its_folders(tmp_path: Path) -> None:
    """bench/fs_churn.py (the disk's slowdown after deletions, bench/README.md) runs and cleans up."""
    import subprocess

    done = subprocess.run([sys.executable, str(BENCH / "fs_churn.py"), "--dir", str(tmp_path / "churn"),
                           "--folders", "50", "--rounds", "2"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [line.split(":")[0] for line in done.stdout.splitlines()] == ["round 1", "round 2"]
    assert "made 50 folders and files" in done.stdout
    assert list((tmp_path / "churn").iterdir()) == []  # each round's tree is deleted


def test_each_report_says_which_file_system_held_the_corpora(tmp_path: Path) -> None:
    """The disk changes the ratios (bench/README.md): every table names the file system of --work."""
    mounts = ("/dev/vda / ext4 rw,relatime 0 0\n"
              "tmpfs /dev/shm tmpfs rw,nosuid,nodev 0 0\n"
              "/dev/vdb /work\\040data ext4 rw 0 0\n")
    assert run.file_system_of(Path("/dev/shm/bench/s1-n10000"), mounts) == "tmpfs on /dev/shm"
    assert run.file_system_of(Path("/dev/shmx/bench"), mounts) == "ext4 on /"
    assert run.file_system_of(Path("/work data/x"), mounts) == "ext4 on /work data"
    assert run.file_system_of(Path("/"), mounts) == "ext4 on /"
    assert run.file_system_of(tmp_path, "") == "unknown"
    on_ext4 = run.Report(profile="full", file_system="ext4 on /", deleted_at_once=True)
    assert "- corpora and outputs on: ext4 on / (without a journal" in run.format_markdown(on_ext4)
    kept_aside = run.Report(profile="full", file_system="ext4 on /")  # no deletion before a build: no warning
    assert "- corpora and outputs on: ext4 on /\n" in run.format_markdown(kept_aside)
    on_tmpfs = run.Report(profile="full", file_system="tmpfs on /dev/shm")
    text = run.format_markdown(on_tmpfs)
    assert "- corpora and outputs on: tmpfs on /dev/shm\n" in text and "journal" not in text


def test_cold_builds_move_the_last_output_aside_until_the_run_ends(tmp_path: Path) -> None:
    """By default (on a disk) each cold build's predecessor is moved aside, not deleted before the
    build, and deleted when the run ends; `delete_at_once` deletes it before the build instead.
    The report says which."""
    seen: list[list[str]] = []

    def look(_run: run.Run) -> None:
        aside = tmp_path / run.ASIDE
        seen.append(sorted(p.name for p in aside.glob("digest-*/output/index.html")) if aside.is_dir() else [])

    report = run.run_benchmark([STORIES], reps=2, tools=("digest",), scenarios=("cold",), seed=SEED, work=tmp_path,
                               progress=look, delete_at_once=False)
    assert [r.returncode for r in report.runs] == [0, 0]
    assert seen == [[], ["index.html"]]  # the first build's output, kept aside during the second build
    assert not (tmp_path / run.ASIDE).exists()
    assert "moved aside, and deleted when the run ended" in run.format_markdown(report)
    assert "started" not in run.format_markdown(report)  # no wait: 100 stories are not a large deletion
    assert "`sync` before every measured build" in run.format_markdown(report)
    report.waited = 120.0
    assert "; the run started 120 s late" in run.format_markdown(report)

    seen.clear()
    report = run.run_benchmark([STORIES], reps=2, tools=("digest",), scenarios=("cold",), seed=SEED, work=tmp_path,
                               progress=look, delete_at_once=True)
    assert [r.returncode for r in report.runs] == [0, 0] and seen == [[], []]
    assert "deleted (`--delete-at-once`" in run.format_markdown(report)


def test_outputs_are_kept_aside_except_on_tmpfs_unless_asked() -> None:
    assert run.keeps_aside("ext4 on /", None)
    assert not run.keeps_aside("tmpfs on /dev/shm", None)
    assert not run.keeps_aside("ext4 on /", True)
    assert run.keeps_aside("tmpfs on /dev/shm", False)


def test_a_run_waits_minutes_after_a_large_deletion_on_ext4(tmp_path: Path) -> None:
    """What a run moved aside is deleted at its end, noted; the next run on ext4 waits until
    FORGET_S have passed since a large deletion, and only then."""
    aside = tmp_path / run.ASIDE
    (aside / "digest-1" / "output").mkdir(parents=True)
    (aside / "digest-1" / "output" / "index.html").write_text("x", encoding="utf-8")
    run.delete_aside(aside)
    assert not aside.exists()
    stamp = tmp_path / run.DELETED
    noted = json.loads(stamp.read_text(encoding="utf-8"))
    assert noted["entries"] == 3  # digest-1, output, index.html
    slept: list[float] = []
    stamp.write_text(json.dumps({"time": 1000.0, "entries": run.LARGE_DELETION}), encoding="utf-8")
    assert run.wait_for_deletions(stamp, "ext4 on /", 1000.0 + 60, slept.append) == run.FORGET_S - 60
    assert slept == [run.FORGET_S - 60]
    assert run.wait_for_deletions(stamp, "ext4 on /", 1000.0 + run.FORGET_S + 1, slept.append) == 0
    assert run.wait_for_deletions(stamp, "xfs on /", 1000.0 + 60, slept.append) == 0
    stamp.write_text(json.dumps({"time": 1000.0, "entries": run.LARGE_DELETION - 1}), encoding="utf-8")
    assert run.wait_for_deletions(stamp, "ext4 on /", 1000.0 + 60, slept.append) == 0
    assert run.wait_for_deletions(tmp_path / "missing", "ext4 on /", 0, slept.append) == 0
    assert slept == [run.FORGET_S - 60]


def test_a_terminated_harness_exits_at_once(tmp_path: Path) -> None:
    """SIGTERM during a measured build ends the build and the harness, without waiting for the
    build's timeout (a timer thread once kept the process alive for up to an hour)."""
    import subprocess
    import time

    script = (f"import os, signal, sys, threading\nfrom pathlib import Path\nsys.path.insert(0, {str(BENCH)!r})\n"
              "import run\n"
              "signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))\n"
              "threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGTERM)).start()\n"
              "run.measure(('sleep', '60'), Path('.'), dict(os.environ), 3600)\n")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, timeout=60)
    assert done.returncode == 143
    assert time.monotonic() - started < 20


def test_the_bench_theme_is_what_digest_renders_and_survives_the_template_edit(tmp_path: Path) -> None:
    """`--theme bench`: digest's pages come from bench/peers/digest/templates (no page metadata),
    the template scenario edits that copy, and each repetition starts from a fresh copy."""
    report = run.run_benchmark([STORIES], reps=2, tools=("digest",), scenarios=("cold", "template"), seed=SEED,
                               work=tmp_path, theme="bench")
    assert all(r.returncode == 0 for r in report.runs), [r.error for r in report.runs]
    assert all(r.ok for r in report.runs if r.scenario == "template")
    assert "digest's theme: bench" in run.format_markdown(report)
    site = tmp_path / f"s{SEED}-n{STORIES}" / "digest"
    page = (site / "output" / "stories" / generate.make_story(SEED, 0).slug / "index.html").read_text(encoding="utf-8")
    assert '<p class="summary">' in page and "og:title" not in page
    theme = {p.relative_to(run.BENCH_THEME): p.read_bytes() for p in run.BENCH_THEME.rglob("*.html")}
    assert {p.relative_to(site / "templates"): p.read_bytes() for p in (site / "templates").rglob("*.html")} == theme
    # the default theme again: the site's own templates are gone
    report = run.run_benchmark([STORIES], reps=1, tools=("digest",), scenarios=("cold",), seed=SEED, work=tmp_path)
    assert not (site / "templates").exists() and "digest's theme" not in run.format_markdown(report)
    assert "og:title" in (site / "output" / "stories" / generate.make_story(SEED, 0).slug / "index.html").read_text(encoding="utf-8")


def test_outputs_peers_leaves_out_what_the_peers_do_not_build(tmp_path: Path) -> None:
    """`--outputs peers`: digest builds no outlet or archive pages, no per-topic or per-tag feeds and
    no sitemap, and the report says so; the next run with the default builds them again."""
    site = tmp_path / f"s{SEED}-n{STORIES}" / "digest"
    report = run.run_benchmark([STORIES], reps=1, tools=("digest",), scenarios=("cold",), seed=SEED, work=tmp_path,
                               outputs="peers")
    assert report.runs[0].returncode == 0, report.runs[0].error
    assert "digest's outputs: the peers'" in run.format_markdown(report)
    out = site / "output"
    assert not (out / "sources").exists() and not (out / "archive").exists() and not (out / "sitemap.xml").exists()
    assert [p.relative_to(out).as_posix() for p in out.rglob("*.xml")] == ["feed.xml"]
    report = run.run_benchmark([STORIES], reps=1, tools=("digest",), scenarios=("cold",), seed=SEED, work=tmp_path)
    assert report.runs[0].returncode == 0 and (out / "sources").is_dir() and (out / "sitemap.xml").is_file()
    assert "digest's outputs" not in run.format_markdown(report)


def test_topics_from_front_matter_are_the_peers_categories_and_are_undone(tmp_path: Path) -> None:
    """`--topics front-matter`: each digest story lists the topics the peers get as categories, and
    its page links exactly those; the next run with the default writes the stories again without
    them (digest's rules assign topics)."""
    import re

    site = tmp_path / f"s{SEED}-n{STORIES}" / "digest"
    report = run.run_benchmark([STORIES], reps=1, tools=("digest",), scenarios=("cold",), seed=SEED, work=tmp_path,
                               topics="front-matter")
    assert report.runs[0].returncode == 0, report.runs[0].error
    assert "digest's topics: from front matter" in run.format_markdown(report)
    with_topics = 0
    for i in range(STORIES):
        story = generate.make_story(SEED, i)
        text = (site / story.digest_path).read_text(encoding="utf-8")
        assert ("\ntopics: [" in text) and text.index("\ntopics: [") < text.index("\n---\n", 4)
        page = (site / "output" / "stories" / story.slug / "index.html").read_text(encoding="utf-8")
        assert set(re.findall(r'href="[./]*topics/([a-z0-9-]+)/"', page)) == set(story.topics)
        with_topics += bool(story.topics)
    assert with_topics > STORIES // 2
    report = run.run_benchmark([STORIES], reps=1, tools=("digest",), scenarios=("cold",), seed=SEED, work=tmp_path)
    assert report.runs[0].returncode == 0 and "digest's topics" not in run.format_markdown(report)
    assert all("\ntopics:" not in (site / generate.make_story(SEED, i).digest_path).read_text(encoding="utf-8")
               for i in range(STORIES))
