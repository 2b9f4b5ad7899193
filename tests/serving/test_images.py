"""The image store: H&M folder layout, URL templates over loopback, placeholders, id checks."""

from __future__ import annotations

import functools
import http.server
import logging
import os
import socket
import threading
from pathlib import Path

import pytest

from fashiongraph.data.sample import sample_paths
from fashiongraph.errors import ConfigError
from fashiongraph.serving.images import (
    LocalImageStore,
    NoImageStore,
    UrlImageStore,
    make_image_store,
    placeholder_svg,
    validate_article_id,
)

IMAGES = sample_paths().images
RAGREC_IMAGES = Path("/work/shared/data/real/hm_ragrec/images")


def some_image() -> tuple[str, Path]:
    """An article id of the bundled sample that has an image, and its file."""
    path = next(IMAGES.glob("*/*.jpg"))
    return path.stem, path


@pytest.mark.parametrize("bad", [
    "../../etc/passwd", "/etc/passwd", "010877501", "01087750155", "010877501a",
    "０１０８７７５０１５", "0108775015\n", " 0108775015", "..%2F..%2F", "",
])
def test_article_ids_other_than_ten_ascii_digits_are_rejected(bad):
    with pytest.raises(ConfigError, match=r"article_id must be exactly 10 digits.*\(got "):
        validate_article_id(bad)
    with pytest.raises(ConfigError, match="exactly 10 digits"):
        LocalImageStore(IMAGES).image(bad)


def test_local_store_reads_the_hm_layout():
    article_id, path = some_image()
    image = LocalImageStore(IMAGES).image(article_id)
    assert not image.placeholder
    assert image.media_type == "image/jpeg"
    assert image.content == path.read_bytes()
    assert image.content[:3] == b"\xff\xd8\xff"  # a JPEG


@pytest.mark.skipif(not RAGREC_IMAGES.is_dir(), reason="hm_ragrec sample not on this machine")
def test_local_store_also_reads_a_flat_folder():
    path = next(RAGREC_IMAGES.glob("*.jpg"))
    image = LocalImageStore(RAGREC_IMAGES).image(path.stem)
    assert image.content == path.read_bytes() and not image.placeholder


def test_missing_image_gives_the_placeholder_not_an_error(tmp_path):
    for store in (LocalImageStore(IMAGES), LocalImageStore(tmp_path / "nowhere"), NoImageStore()):
        image = store.image("0000000001")
        assert image.placeholder
        assert image.media_type == "image/svg+xml"
        text = image.content.decode()
        assert text.startswith("<svg") and "0000000001" in text and "no image" in text


def test_placeholder_escapes_its_label():
    assert "<script>" not in placeholder_svg("<script>")


def test_symlink_out_of_the_store_is_not_followed(tmp_path):
    article_id, path = some_image()
    outside = tmp_path / "outside" / article_id[:3]
    outside.mkdir(parents=True)
    (outside / f"{article_id}.jpg").write_bytes(path.read_bytes())
    root = tmp_path / "images"
    root.mkdir()
    os.symlink(outside, root / article_id[:3])
    assert LocalImageStore(root).image(article_id).placeholder


def test_a_file_is_not_an_image_folder(tmp_path):
    (tmp_path / "file.jpg").write_bytes(b"x")
    with pytest.raises(ConfigError, match=r"image folder .*file.jpg must be a directory"):
        LocalImageStore(tmp_path / "file.jpg")


@pytest.mark.parametrize("template, message", [
    ("ftp://127.0.0.1/{article_id}.jpg", "must start with http:// or https://"),
    ("http://127.0.0.1/{prefix}.jpg", "must contain '{article_id}'"),
])
def test_url_template_is_checked(template, message):
    with pytest.raises(ConfigError, match=message):
        UrlImageStore(template)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def image_server():
    """A static file server on loopback over the bundled images; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(IMAGES))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_url_store_fetches_over_loopback_and_falls_back_on_404(image_server):
    article_id, path = some_image()
    store = make_image_store(image_server + "/{prefix}/{article_id}.jpg")
    assert isinstance(store, UrlImageStore)
    assert store.url(article_id) == f"{image_server}/{article_id[:3]}/{article_id}.jpg"
    image = store.image(article_id)
    assert image.content == path.read_bytes() and not image.placeholder
    assert store.image("0000000001").placeholder


def test_url_store_that_cannot_be_reached_yields_the_placeholder(caplog):
    with socket.socket() as sock:  # a loopback port with nobody listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = UrlImageStore(f"http://127.0.0.1:{port}/{{article_id}}.jpg", timeout=1.0)
    with caplog.at_level(logging.WARNING, logger="fashiongraph.serving.images"):
        assert store.image("0108775015").placeholder
    assert "using the placeholder" in caplog.text
