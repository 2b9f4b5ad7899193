"""Article images behind one small interface: a local folder or a URL (S3-compatible) store.

An image store answers one question: the JPEG bytes of an article, or ``None`` when it has none.
``image_or_placeholder`` turns ``None`` into a generated SVG placeholder, so that a missing
image never becomes an error on a page or in the API.

Article ids are checked before anything touches a path or a URL: exactly ten ASCII digits
(``0108775015``), so that ``../`` or an absolute path can never reach the file system.

Stores:

- ``LocalImageStore(root)``: the H&M layout ``<root>/<first 3 digits>/<article_id>.jpg``; a flat
  ``<root>/<article_id>.jpg`` is accepted too (some samples ship that way).
- ``UrlImageStore(template)``: ``template.format(prefix=..., article_id=...)``, e.g.
  ``http://127.0.0.1:9000/hm-images/{prefix}/{article_id}.jpg``; a public or path-style S3 bucket,
  MinIO or any static file server fits. Requests carry no credentials.
"""

from __future__ import annotations

import logging
import re
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from dataclasses import dataclass
from html import escape
from pathlib import Path

from fashiongraph.errors import ConfigError

log = logging.getLogger(__name__)

_ARTICLE_ID = re.compile(r"[0-9]{10}")


def validate_article_id(article_id: str) -> str:
    """Return ``article_id`` if it is exactly ten ASCII digits, else raise ``ConfigError``.

    Parameters
    ----------
    article_id : str
        The article id as it came from a request or a table, e.g. ``"0108775015"``.
    """
    if not isinstance(article_id, str) or _ARTICLE_ID.fullmatch(article_id) is None:
        raise ConfigError(
            f"article_id must be exactly 10 digits, like '0108775015' (got {article_id!r})"
        )
    return article_id


@dataclass(frozen=True)
class ArticleImage:
    """An image ready to send: bytes, their media type, and whether it is the placeholder."""

    content: bytes
    media_type: str
    placeholder: bool


class ImageStore(ABC):
    """Where article images come from."""

    @abstractmethod
    def fetch(self, article_id: str) -> bytes | None:
        """The JPEG bytes of a validated ``article_id``, or ``None`` when the store has none."""

    @abstractmethod
    def describe(self) -> str:
        """One line for logs and the health endpoint."""

    def image(self, article_id: str) -> ArticleImage:
        """The article's image, or the placeholder when missing (never raises for a valid id)."""
        validate_article_id(article_id)
        content = self.fetch(article_id)
        if content is None:
            return ArticleImage(placeholder_svg(article_id).encode(), "image/svg+xml", True)
        return ArticleImage(content, "image/jpeg", False)


class NoImageStore(ImageStore):
    """A store without images: every article gets the placeholder."""

    def fetch(self, article_id: str) -> bytes | None:
        return None

    def describe(self) -> str:
        return "none (placeholders only)"


class LocalImageStore(ImageStore):
    """Images in a folder laid out like the H&M data: ``<root>/<id[:3]>/<id>.jpg``.

    Parameters
    ----------
    root : str or Path
        The ``images`` folder. It need not exist (then every image is missing), but a path that
        exists and is not a folder is a configuration error.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        if self.root.exists() and not self.root.is_dir():
            raise ConfigError(f"image folder {root} must be a directory (got a file)")

    def path(self, article_id: str) -> Path | None:
        """The file holding the image of ``article_id``, or ``None``."""
        validate_article_id(article_id)
        for candidate in (self.root / article_id[:3] / f"{article_id}.jpg",
                          self.root / f"{article_id}.jpg"):
            # The id check already rules out traversal; the containment check keeps a symlinked
            # sub-folder from pointing outside the store.
            if candidate.is_file() and candidate.resolve().is_relative_to(self.root):
                return candidate
        return None

    def fetch(self, article_id: str) -> bytes | None:
        path = self.path(article_id)
        return None if path is None else path.read_bytes()

    def describe(self) -> str:
        return f"local folder {self.root}"


class UrlImageStore(ImageStore):
    """Images from an HTTP(S) URL template (a static server, a public S3 or MinIO bucket).

    Parameters
    ----------
    template : str
        A URL with ``{article_id}`` and optionally ``{prefix}`` (the first three digits), e.g.
        ``"http://127.0.0.1:9000/hm-images/{prefix}/{article_id}.jpg"``.
    timeout : float
        Seconds per request; a slow or failing store yields the placeholder, not an error.
    cache_size : int
        How many images to keep in memory (least recently used are dropped).

    Notes
    -----
    Requests are anonymous: a private bucket needs a signing proxy in front of it. 404 and 403
    mean "missing"; other failures are logged at warning level and also yield ``None``.
    """

    def __init__(self, template: str, *, timeout: float = 2.0, cache_size: int = 512):
        if not template.startswith(("http://", "https://")):
            raise ConfigError(f"image URL template must start with http:// or https:// "
                              f"(got {template!r})")
        if "{article_id}" not in template:
            raise ConfigError(f"image URL template must contain '{{article_id}}' (got {template!r})")
        if not timeout > 0:
            raise ConfigError(f"image store timeout must be > 0 seconds (got {timeout})")
        self.template = template
        self.timeout = timeout
        self.cache_size = cache_size
        self._cache: OrderedDict[str, bytes | None] = OrderedDict()
        self._lock = threading.Lock()
        self._client = None

    def url(self, article_id: str) -> str:
        """The URL of ``article_id``'s image."""
        validate_article_id(article_id)
        return self.template.format(prefix=article_id[:3], article_id=article_id)

    def fetch(self, article_id: str) -> bytes | None:
        with self._lock:
            if article_id in self._cache:
                self._cache.move_to_end(article_id)
                return self._cache[article_id]
        content = self._download(self.url(article_id))
        with self._lock:
            self._cache[article_id] = content
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return content

    def _download(self, url: str) -> bytes | None:
        import httpx

        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout, follow_redirects=False)
        try:
            response = self._client.get(url)
        except httpx.HTTPError as exc:
            log.warning("image store: GET %s failed (%s); using the placeholder", url, exc)
            return None
        if response.status_code in (403, 404):
            return None
        if response.status_code != 200:
            log.warning("image store: GET %s answered %d; using the placeholder",
                        url, response.status_code)
            return None
        return response.content

    def describe(self) -> str:
        return f"URL template {self.template}"


def make_image_store(source: str | Path | None) -> ImageStore:
    """An image store from a folder path, a URL template, or ``None`` (placeholders only)."""
    if source is None or str(source) == "":
        return NoImageStore()
    text = str(source)
    if text.startswith(("http://", "https://")):
        return UrlImageStore(text)
    return LocalImageStore(text)


def placeholder_svg(article_id: str = "", *, width: int = 240, height: int = 360) -> str:
    """A grey SVG card with a hanger outline and the article id, shown for a missing image."""
    label = escape(article_id)
    cx = width // 2
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="no image for {label}">'
        f'<rect width="{width}" height="{height}" fill="#eceff1"/>'
        f'<path d="M{cx - 60} {height // 2 + 10} L{cx} {height // 2 - 30} L{cx + 60} '
        f'{height // 2 + 10} Z" fill="none" stroke="#90a4ae" stroke-width="4"/>'
        f'<path d="M{cx} {height // 2 - 30} v-14 a10 10 0 1 1 10 -10" fill="none" '
        f'stroke="#90a4ae" stroke-width="4"/>'
        f'<text x="{cx}" y="{height // 2 + 50}" font-family="sans-serif" font-size="16" '
        f'fill="#607d8b" text-anchor="middle">no image</text>'
        f'<text x="{cx}" y="{height // 2 + 72}" font-family="monospace" font-size="13" '
        f'fill="#78909c" text-anchor="middle">{label}</text></svg>'
    )
