"""The files beside the pages: Atom feeds, the sitemap and robots.txt, each fingerprinted like a
page so an incremental build rewrites only the feeds whose entries changed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Mapping, Sequence

from digest import feeds, sitemap
from digest.model import SiteConfig
from digest.views import SiteViews


@dataclass(frozen=True)
class FileJob:
    """One output file: its fingerprint and how to make its bytes."""

    path: str
    fingerprint: str
    make: Callable[[], bytes]
    feed: feeds.FeedJob | None = None  # for a feed: the job and the stories it shows
    chosen: tuple = ()


def feed_files(config: SiteConfig, views: SiteViews, now: datetime, mtimes: Mapping[str, datetime],
               salt: str, stamps: Mapping[str, str]) -> list[FileJob]:
    """A job per feed, fingerprinted by the stories it shows. The entries are chosen once here (and
    handed to `make`); the jobs share one `FeedWriter`, so a story shown in many feeds is serialised once.
    A feed whose stories are the last build's very tuple of views keeps its choice and
    fingerprint (`views.reuse`)."""
    jobs = []
    order: dict[str, int] | None = None  # ranked only when some feed's stories changed
    writer = feeds.FeedWriter(config, now, mtimes)
    mtimes_key = tuple(sorted(mtimes.items()))
    def choose(job: feeds.FeedJob) -> tuple[list, str]:
        nonlocal order
        if order is None:
            order = feeds.feed_order(views.stories, mtimes)
        chosen = feeds.newest(job.stories, mtimes, job.limit, order)
        return chosen, feed_fingerprint(salt, job, chosen, stamps, mtimes)

    for job in feeds.feed_jobs(config, views):
        chosen, fingerprint = views.reuse(("feed", job.path), job.stories, (job, salt, mtimes_key),
                                          lambda job=job: choose(job))
        jobs.append(FileJob(job.path, fingerprint, lambda job=job, chosen=chosen: writer.render(job, chosen),
                            job, tuple(chosen)))
    return jobs


def feed_fingerprint(salt: str, job: feeds.FeedJob, chosen: Sequence, stamps: Mapping[str, str],
                     mtimes: Mapping[str, datetime]) -> str:
    """A feed's fingerprint: its place and titles, and the stamps (and entry times) of the stories it shows."""
    parts = [salt, job.path, job.page, job.title, job.subtitle]
    parts += [stamps[v.story.path] + "@" + str(mtimes.get(v.slug, "")) for v in chosen]
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=16).hexdigest()


def sitemap_files(config: SiteConfig, views: SiteViews, page_urls: Sequence[str],
                  mtimes: Mapping[str, datetime]) -> dict[str, bytes]:
    """sitemap.xml and robots.txt (cheap: made at every build); robots.txt alone with `[sitemap] enabled = false`."""
    if not config.sitemap_enabled:
        return {"robots.txt": sitemap.robots_txt(config).encode("utf-8")}
    return sitemap.render_sitemap(config, sitemap.sitemap_entries(views, page_urls, mtimes))
