# Pelican site for the digest benchmark: one page per story, tag pages, topic (category) pages,
# every list paginated at 20 (index, tags, topics) and one RSS feed of the 20 latest stories, with full content.
# Content caching is on (Pelican's own way to speed up rebuilds); the harness removes
# output/ and cache/ before a cold build. bench/generate.py appends TOPICS (slug -> title, intro).
AUTHOR = "Bench"
SITENAME = "Bench Digest"
SITEURL = "https://bench.example"
PATH = "content"
OUTPUT_PATH = "output"
THEME = "theme"
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
DEFAULT_DATE = (1970, 1, 1)  # Pelican needs a date; the corpus has a few undated stories
DEFAULT_CATEGORY = "uncategorized"
USE_FOLDER_AS_CATEGORY = False
DELETE_OUTPUT_DIRECTORY = False
RELATIVE_URLS = False

ARTICLE_URL = "stories/{slug}/"
ARTICLE_SAVE_AS = "stories/{slug}/index.html"
TAG_URL = "tags/{slug}/"
TAG_SAVE_AS = "tags/{slug}/index.html"
CATEGORY_URL = "topics/{slug}/"
CATEGORY_SAVE_AS = "topics/{slug}/index.html"
AUTHOR_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
CATEGORIES_SAVE_AS = ""
TAGS_SAVE_AS = ""
ARCHIVES_SAVE_AS = ""
PAGE_SAVE_AS = ""
DIRECT_TEMPLATES = ["index"]

DEFAULT_PAGINATION = 20
PAGINATED_TEMPLATES = {"index": None, "tag": None, "category": None, "author": None}
PAGINATION_PATTERNS = (
    (1, "{url}", "{save_as}"),
    (2, "{base_name}/page/{number}/", "{base_name}/page/{number}/index.html"),
)

FEED_DOMAIN = SITEURL
FEED_ALL_ATOM = None
FEED_ALL_RSS = "index.xml"
CATEGORY_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
TRANSLATION_FEED_ATOM = None
FEED_MAX_ITEMS = 20
RSS_FEED_SUMMARY_ONLY = False

CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True
CACHE_PATH = "cache"
CHECK_MODIFIED_METHOD = "mtime"

STATIC_PATHS = []
PLUGINS = []  # no namespace plugin loads by itself: the harness's matched workload adds two (bench/run.py)
# MARKDOWN: Pelican's default (extra, codehilite, meta). Adding smarty (smart quotes, which
# digest and Hugo do) would double Pelican's Markdown time; the benchmark keeps Pelican as shipped.


def _markdown_intro(text):
    import markdown

    return markdown.markdown(text, extensions=["markdown.extensions.smarty"])


JINJA_FILTERS = {"markdown_intro": _markdown_intro}
