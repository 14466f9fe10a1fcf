"""Static files: hashed names, pre-compressed, cached for good once `qifu collectstatic` has run — and the
pages still work when it has not (docs/decisions.md "Static files").

`qifu collectstatic` (WhiteNoise's CompressedManifestStaticFilesStorage) copies every file to STATIC_ROOT
under a name that carries a hash of its content (`front/qifu.3f2a….css`), writes a .gz and a .br beside
each, and a manifest from plain names to hashed ones. `{% static %}` then gives the hashed name, which
WhiteNoise (or nginx) serves with a year-long, immutable Cache-Control: a new version is a new name.

The manifest also records a fingerprint of the source files it was made from. When it is missing or the
sources have changed since (a new checkout, an upgrade before its `collectstatic`, the test suite, a
developer's edit), the manifest is ignored: `{% static %}` gives plain names, served from the sources by
WhiteNoise's finders with a short cache — never a 500 for a missing manifest entry, never a stale file.
"""

from __future__ import annotations

import hashlib
import json
import logging

from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger("qifu.static")

IGNORE_PATTERNS = ["CVS", ".*", "*~"]  # collectstatic's default


def sources_fingerprint() -> str:
    """A hash of every static source file's name and content, in the order collectstatic finds them
    (the first of two files with the same name wins, as there)."""
    seen: set[str] = set()
    digest = hashlib.sha256()
    for finder in finders.get_finders():
        for path, storage in finder.list(IGNORE_PATTERNS):
            prefix = getattr(storage, "prefix", None) or ""
            name = f"{prefix}/{path}" if prefix else path
            if name in seen:
                continue
            seen.add(name)
            with storage.open(path) as source:
                digest.update(name.encode() + b"\0" + hashlib.sha256(source.read()).digest())
    return digest.hexdigest()


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """The manifest storage, used only while its manifest matches the sources; plain names otherwise."""

    manifest_strict = False
    fingerprint_key = "qifu_sources"

    def load_manifest(self):
        content = self.read_manifest()
        if content is None:
            return {}, ""
        try:
            recorded = json.loads(content).get(self.fingerprint_key)
        except (ValueError, AttributeError):
            recorded = None
        if recorded != sources_fingerprint():
            logger.debug("The collected static files are not those of this version (run `qifu collectstatic`): "
                        "serving them under their plain names")
            return {}, ""
        return super().load_manifest()

    def save_manifest(self):
        super().save_manifest()
        payload = json.loads(self.read_manifest())
        payload[self.fingerprint_key] = sources_fingerprint()
        self.manifest_storage.delete(self.manifest_name)
        self.manifest_storage._save(self.manifest_name, ContentFile(json.dumps(payload).encode()))

    def stored_name(self, name):
        """The hashed name from the manifest; the plain name for a file it does not list (no manifest, an
        outdated one, a file added since) — never computed from STATIC_ROOT, where it may be missing."""
        if self.hash_key(self.clean_name(name.split("?", 1)[0].split("#", 1)[0].strip())) not in self.hashed_files:
            return name
        return super().stored_name(name)

    @property
    def current(self) -> bool:
        """Whether pages get the hashed names (a manifest that matches the sources)."""
        return bool(self.hashed_files)


def collected_current() -> bool:
    """Whether STATIC_ROOT holds the collected files of these sources (a fresh storage reads the manifest)."""
    return StaticFilesStorage().current


NOT_COLLECTED = ("Static files: not collected for this version — pages name the plain files, cached 60 s. "
                 "`qifu collectstatic` makes them hashed, compressed and cached for a year.")


def collect_if_outdated(stdout) -> bool:
    """`qifu demo`: collect the static files when STATIC_ROOT does not hold these sources' (the first start, or
    the first after an upgrade; a minute at most). Whether pages get the hashed names."""
    from django.core.management import call_command

    if collected_current():
        return True
    stdout.write("Collecting the static files (hashed and compressed, once per version) …")
    try:
        call_command("collectstatic", interactive=False, verbosity=0)
    except OSError as exc:  # STATIC_ROOT not writable here: the plain names still work
        stdout.write(f"Could not collect them ({exc}). {NOT_COLLECTED}")
        return False
    return True
