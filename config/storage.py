"""Static files storage of production: whitenoise's compressed manifest storage, strict for
our own files, lenient for the few third-party stylesheets that name files their package
does not ship.

viewflow 2.4 ships ``viewflow/fonts/roboto/node_modules/roboto-fontface/css/roboto/
roboto-fontface.css``, whose ``url(./Roboto-*.woff2)`` point next to the stylesheet, where
no font is (the fonts live in ``…/fonts/roboto/``). Nothing of ours or of viewflow's loads
that stylesheet (viewflow's templates use ``viewflow/fonts/roboto/roboto-fontface.css``),
yet the manifest storage post-processes every CSS file and refused to finish
``collectstatic``. Under ``LENIENT_PREFIXES`` a reference to a file that does not exist is
left as written and logged; anywhere else (our ``static/``, every other package) it still
fails ``collectstatic``, and ``{% static %}`` of a missing file still raises
(``manifest_strict``).
"""

from __future__ import annotations

import logging
import re

from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger("jixiao.staticfiles")

#: "The file 'x' could not be found with <storage>." — Django's hashed_name() for a missing file.
_MISSING = re.compile(r"^The file '.*' could not be found with ")


class LenientThirdPartyManifestStorage(CompressedManifestStaticFilesStorage):
    #: Static paths (as collected) of third-party files whose dangling references are tolerated.
    LENIENT_PREFIXES: tuple[str, ...] = ("viewflow/fonts/roboto/node_modules/",)

    def __init__(self, *args, lenient_prefixes: tuple[str, ...] | list[str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if lenient_prefixes is not None:
            self.LENIENT_PREFIXES = tuple(lenient_prefixes)
        self._reported: set[str] = set()

    def is_lenient(self, name: str) -> bool:
        return name.replace("\\", "/").startswith(self.LENIENT_PREFIXES)

    def url_converter(self, name, hashed_files, template=None):
        convert = super().url_converter(name, hashed_files, template)
        if not self.is_lenient(name):
            return convert

        def lenient(matchobj):
            try:
                return convert(matchobj)
            except ValueError as error:
                if not _MISSING.match(str(error)):
                    raise
                url = matchobj.groupdict()["url"]
                if name not in self._reported:  # once per file: post-processing runs several passes
                    self._reported.add(name)
                    logger.warning("%s references files that do not exist (%s, …): left unchanged", name, url)
                else:
                    logger.debug("%s references %s, which does not exist: left unchanged", name, url)
                return matchobj.groupdict()["matched"]

        return lenient
