"""Static files (qifu/lib/staticfiles.py): after `qifu collectstatic`, pages name hashed files, served
compressed and cached for good; before it, or once the sources have changed, the plain names — never an
error for a missing manifest entry, never a stale file. On two small files of their own (fast)."""

import io
import re

from django.contrib.staticfiles.storage import staticfiles_storage
from django.templatetags.static import static
from django.test import Client, override_settings

from qifu.lib.staticfiles import StaticFilesStorage, collect_if_outdated, collected_current


def test_hashed_compressed_and_immutable_only_while_the_manifest_matches_the_sources(tmp_path):
    src, root = tmp_path / "src", tmp_path / "root"
    src.mkdir()
    root.mkdir()
    (src / "app.js").write_text("function hello() { return 'hello'; }\n" * 60)
    (src / "site.css").write_text("body { color: #123456; }\n" * 60)
    with override_settings(STATICFILES_DIRS=[src], STATIC_ROOT=root,
                           STATICFILES_FINDERS=["django.contrib.staticfiles.finders.FileSystemFinder"]):
        assert static("app.js") == "/static/app.js" and not collected_current()  # nothing collected yet
        assert Client().get("/static/app.js").status_code == 200  # from the sources

        out = io.StringIO()
        assert collect_if_outdated(out) and "Collecting" in out.getvalue()  # what `qifu demo` does
        staticfiles_storage._wrapped = StaticFilesStorage()  # what a process started now reads
        assert collected_current()
        assert collect_if_outdated(out := io.StringIO()) and out.getvalue() == ""  # once per version
        url = static("app.js")
        assert re.fullmatch(r"/static/app\.[0-9a-f]{12}\.js", url)
        assert static("not-there.js") == "/static/not-there.js"  # a file added since: its plain name, no 500
        hashed = root / url.removeprefix("/static/")
        assert hashed.with_name(hashed.name + ".gz").exists() and hashed.with_name(hashed.name + ".br").exists()

        client = Client()
        response = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
        assert response.status_code == 200 and response["Content-Encoding"] == "br"
        assert response["Cache-Control"] == "max-age=315360000, public, immutable"
        assert "Accept-Encoding" in response["Vary"]
        assert client.get(url, HTTP_ACCEPT_ENCODING="gzip")["Content-Encoding"] == "gzip"
        assert client.get("/static/app.js")["Cache-Control"] == "max-age=60, public"  # plain names: a minute

        (src / "app.js").write_text("function hello() { return 'bonjour'; }\n" * 60)  # an edit, not collected
        staticfiles_storage._wrapped = StaticFilesStorage()
        assert not collected_current() and static("app.js") == "/static/app.js"  # the new file, not the old
