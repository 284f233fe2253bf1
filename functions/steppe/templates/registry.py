"""Attack-kind templates: what each kind of attack means in STIX.

One YAML file per kind lives in `stix_templates/` (ddos.yaml, phishing.yaml,
...). A template names the kind's ATT&CK technique (and CAPEC pattern where one
fits), the observable types it accepts, the roles an observable can play and
what each role produces (an indicator, or only a link for victims), indicator
types, names and validity, and the report's types and default confidence.
Adding a kind is adding a file; `Converter` and the parsers read nothing else.

The fields are described in stix_templates/README.md; the `Template` model
(template_schema) is the schema. Every file is validated when loaded; a broken one fails
with its path and the field at fault. The directory is the first of: $STEPPE_TEMPLATES_DIR, the copy
packaged inside the wheel (steppe/stix_templates), the repository's
stix_templates/ (editable install). Each directory is loaded once per process.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import ValidationError

from steppe.templates.template_schema import Template

_ENV_DIR = "STEPPE_TEMPLATES_DIR"


class TemplateError(Exception):
    """A template file that cannot be used; the message names the file and the field."""


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_template(path: Path) -> Template:
    """Read and validate one template file; TemplateError names the file and field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{path}: cannot be read: {exc}") from None
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path}: is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise TemplateError(f"{path}: must be a YAML mapping of template fields")
    try:
        template = Template.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        where = _where(tuple(first["loc"]))
        # whole-template checks name their field at the start of the message
        raise TemplateError(
            f"{path}: {where}: {message}" if where else f"{path}: {message}"
        ) from None
    if template.kind != path.stem:
        raise TemplateError(
            f"{path}: kind: {template.kind!r} must match the file name {path.stem!r}"
        )
    return template


def default_directory() -> Path:
    """Where templates are read from when no path is given (see module docstring)."""
    configured = os.environ.get(_ENV_DIR)
    if configured:
        return Path(configured)
    package = Path(__file__).resolve().parent.parent  # functions/steppe or site-packages/steppe
    packaged = package / "stix_templates"
    if packaged.is_dir():
        return packaged
    return package.parent.parent / "stix_templates"


class TemplateRegistry:
    """Every attack kind's template, by kind."""

    _cache: dict[Path, TemplateRegistry] = {}
    _lock = threading.Lock()

    def __init__(self, templates: Mapping[str, Template], directory: Path) -> None:
        self._templates = dict(sorted(templates.items()))
        self.directory = directory

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> TemplateRegistry:
        """The registry of the templates in `path` (default: see default_directory()).

        Loaded once per directory per process; a directory with a broken file
        raises TemplateError each time it is asked for.
        """
        directory = Path(path) if path is not None else default_directory()
        directory = directory.resolve()
        with cls._lock:
            cached = cls._cache.get(directory)
            if cached is None:
                cached = cls._cache[directory] = cls._read(directory)
        return cached

    @classmethod
    def _read(cls, directory: Path) -> TemplateRegistry:
        if not directory.is_dir():
            raise TemplateError(f"{directory}: template directory not found")
        files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml"))
        if not files:
            raise TemplateError(f"{directory}: no template files (*.yaml)")
        templates: dict[str, Template] = {}
        for file in files:
            template = load_template(file)
            if template.kind in templates:
                raise TemplateError(f"{file}: kind {template.kind!r} is defined twice")
            templates[template.kind] = template
        return cls(templates, directory)

    def get(self, kind: str) -> Template:
        """The template of `kind`; KeyError (naming the known kinds) if there is none."""
        try:
            return self._templates[kind]
        except KeyError:
            raise KeyError(
                f"unknown attack kind {kind!r}; known kinds: {', '.join(self._templates)}"
            ) from None

    def kinds(self) -> tuple[str, ...]:
        return tuple(self._templates)

    def __contains__(self, kind: object) -> bool:
        return kind in self._templates
