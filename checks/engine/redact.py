"""Keeping credential values out of every output.

Checks never put the value of a credential field into a message, ``observed``
or ``expected`` (they name the field instead: redaction by field, the first
line). This module is the second line: before results leave the engine, their
texts are scrubbed of the credential values found in the scan: Secret
``data`` (raw and decoded) and ``stringData``, literal env values whose name
looks like a credential, credential-looking keys of Helm values, each also in
its base64 and URL-encoded forms; and the userinfo of any ``scheme://user:pw@``
URL.

The scrubber must not mangle ordinary text. Two rules keep it from doing so:

- a value is replaced only where it stands as a whole token, not where it is
  part of a longer identifier: a Secret value ``mysql`` is replaced in
  ``password=mysql`` and ``'mysql'`` but not in ``system-mysql`` or
  ``system-mysql.3scale.svc`` (letters, digits, ``_``, and ``-`` or ``.``
  between two of them, continue a token);
- a value that is visibly not secret is not scrubbed at all: one that is the
  name, namespace or kind of a scanned object, a container or env var name, a
  key of a Secret, ConfigMap or Helm values, a product key, or a word of the
  rule catalog's text. Such a word is printed by the reports anyway (in object
  references, rule titles and remediation), so hiding it elsewhere protects
  nothing, and a Secret holding ``kong`` must not turn ``--backup kong=PATH``
  into ``--backup <redacted>=PATH``. Whether it is a credential somewhere is
  the field redaction's business.

Catalog text (titles, remediation, references) and object references never
pass through the scrubber; only the texts that may quote scanned data do
(messages, ``observed``, ``expected``, input-error reasons).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import re
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeGuard

from checks.engine.echo import cut, cut_message
from checks.model import Resource

if TYPE_CHECKING:
    from checks.engine.catalog import Catalog

REDACTED = "<redacted>"
CREDENTIAL_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|_KEY$|^KEY$|APIKEY|API_KEY|CREDENTIAL"
                             r"|PRIVATE|DSN|CONNECTION_STRING|^URL$|DATABASE_URL",
                             re.IGNORECASE)
#: Shorter values would mangle ordinary words in messages.
MIN_SECRET_LENGTH = 4
#: Longer values are found by plain search, not in the regex trie, whose
#: nodes cost hundreds of bytes per character (a 12 MB Secret took 3.4 GB).
LONG_VALUE = 256
#: Product keys as users type them (``--backup kong=PATH``): never secret.
_PRODUCT_WORDS = ("apiconnect", "api7", "kong", "3scale", "kubernetes")
#: A token of text: what a value embedded in it is part of (see the docstring).
_TOKEN = re.compile(r"\w+(?:[.-]\w+)*")
#: A value starting (ending) with a word character is a whole token only where
#: the text before (after) it does not continue the token. The left guard is
#: checked after the value's first character (``[\s\S]`` is that character):
#: a pattern that starts with literals lets the regex engine skip ahead to
#: the next position where a value can begin, 20x faster than a lookbehind
#: tried at every position.
_NOT_AFTER_TOKEN = r"(?<!\w[\s\S])(?<!\w[.-][\s\S])"
_NOT_BEFORE_TOKEN = r"(?!\w)(?![.-]\w)"
_WORD_CHAR = re.compile(r"\w")
#: ``scheme://user:password@``: the userinfo of any URL in a text. The
#: password runs to the last ``@`` of the URL: pasted as it is, it may hold
#: ``@``, ``/`` or ``:`` (``postgres://u:p@ss/w:rd@db``), and stopping at the
#: first would show the rest as the host. A userinfo without ``:`` is not
#: one (``http://h/x@y`` has none).
_URL_USERINFO = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://)"
                           r"(?P<user>[^\s/@:'\"<>]*):(?P<password>[^\s'\"<>]*)@")


@functools.lru_cache(maxsize=8192)
def looks_like_credential(name: str) -> bool:
    """(Cached: a scan asks about the same few hundred env names tens of
    thousands of times.)"""
    return bool(CREDENTIAL_NAME.search(name))


def without_userinfo(text: str) -> str:
    """``postgres://u:pw@db`` -> ``postgres://<redacted>@db`` (every URL in ``text``)."""
    if "://" not in text:
        return text
    return _URL_USERINFO.sub(lambda m: f"{m.group('head')}{REDACTED}@", text)


def url_host(url: str) -> str:
    """``scheme://host[:port]`` of a URL with its userinfo masked (after its last ``@``)."""
    scheme, _, rest = url.strip().partition("://")
    # Only the host: a query string can carry a password too (``?password=``).
    host = re.split(r"[/?#]", rest.rpartition("@")[2], maxsplit=1)[0]
    return f"{scheme}://{REDACTED}@{host}"


def credential_at(resource: Resource, path: Sequence[str | int]) -> list[str]:
    """The credential a finding's field holds, to keep out of its message and
    ``observed`` (redaction by field): the value of a Secret's ``data`` (also
    decoded) or ``stringData`` entry, of a credential-named key, or of an env
    var (``{name, value}``) with a credential-looking name. [] otherwise."""
    node: Any = resource.body
    parent: Any = None
    for step in path:
        parent = node
        if _is_map(node) and isinstance(step, str):
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and -len(node) <= step < len(node):
            node = node[step]
        else:
            return []
    if not isinstance(node, str) or not path:
        return []
    last = path[-1]
    if resource.kind == "Secret" and path[0] in ("data", "stringData"):
        return list(_secret_values({str(path[0]): {"k": node}}))
    named = last == "value" and _is_map(parent) and isinstance(parent.get("name"), str) \
        and looks_like_credential(parent["name"])
    return [node] if named or (isinstance(last, str) and looks_like_credential(last)) else []


def _is_map(node: Any) -> TypeGuard[Mapping[str, Any]]:
    return node.__class__ is dict or isinstance(node, Mapping)  # dicts skip the ABC check


def _pod_specs(body: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    spec = body.get("spec")
    if not _is_map(spec):
        return
    yield spec
    for path in (("template", "spec"), ("jobTemplate", "spec", "template", "spec")):
        node: Any = spec
        for key in path:
            node = node.get(key) if _is_map(node) else None
        if _is_map(node):
            yield node


def _containers(body: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for pod in _pod_specs(body):
        for group in ("containers", "initContainers"):
            containers = pod.get(group)
            if isinstance(containers, list):
                yield from (c for c in containers if _is_map(c))


def _env_vars(container: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    env = container.get("env")
    if isinstance(env, list):
        yield from (var for var in env if _is_map(var))


def _container_env_values(body: Mapping[str, Any]) -> Iterator[str]:
    for container in _containers(body):
        for var in _env_vars(container):
            name, value = var.get("name"), var.get("value")
            if isinstance(value, str) and isinstance(name, str) and looks_like_credential(name):
                yield value


def _values_credentials(node: Any) -> Iterator[str]:
    if _is_map(node):
        for key, value in node.items():
            if key == "valueFrom":
                continue  # a reference: its secretKeyRef.key names a Secret key, no secret
            if isinstance(value, str) and looks_like_credential(str(key)):
                yield value
            else:
                yield from _values_credentials(value)
    elif isinstance(node, list):
        for item in node:
            yield from _values_credentials(item)


def _secret_values(body: Mapping[str, Any]) -> Iterator[str]:
    data = body.get("data")
    if isinstance(data, Mapping):
        for value in data.values():
            if not isinstance(value, str):
                continue
            yield value
            with contextlib.suppress(binascii.Error, UnicodeDecodeError, ValueError):
                yield base64.b64decode(value, validate=True).decode("utf-8")
    string_data = body.get("stringData")
    if isinstance(string_data, Mapping):
        yield from (v for v in string_data.values() if isinstance(v, str))


def secret_values(resources: Iterable[Resource]) -> list[str]:
    """Every credential value the scanned objects hold (to be scrubbed), and
    the password alone of those that are URLs (a message may quote it apart)."""
    found: list[str] = []
    for resource in resources:
        if resource.chart is not None:
            found.extend(_values_credentials(resource.body))
        elif resource.kind == "Secret":
            found.extend(_secret_values(resource.body))
        else:
            found.extend(_container_env_values(resource.body))
    passwords = [m.group("password") for value in found for m in _URL_USERINFO.finditer(value)]
    return found + passwords


def _keys(node: Any) -> Iterator[str]:
    if _is_map(node):
        for key, value in node.items():
            yield str(key)
            yield from _keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from _keys(item)


def public_words(resources: Iterable[Resource]) -> list[str]:
    """The words of the scan that reports show anyway: object names, namespaces
    and kinds, container and env var names, keys of Secrets, ConfigMaps and
    Helm values. A credential value equal to one of them is not scrubbed."""
    found: set[str] = set()
    for resource in resources:
        found.update((resource.kind, resource.name, resource.namespace or ""))
        if resource.chart is not None:
            found.add(resource.chart)
            found.update(_keys(resource.body))
        elif resource.kind in ("Secret", "ConfigMap"):
            for field in ("data", "stringData", "binaryData"):
                node = resource.body.get(field)
                if _is_map(node):
                    found.update(map(str, node))
        else:
            for container in _containers(resource.body):
                name = container.get("name")
                if isinstance(name, str):
                    found.add(name)
                found.update(var["name"] for var in _env_vars(container)
                             if isinstance(var.get("name"), str))
    found.discard("")
    return sorted(found)


def catalog_words(catalog: Catalog) -> frozenset[str]:
    """The tokens of every rule's user-facing text and params, and the product
    keys. (Cached by digest: a scan builds several scrubbers from one catalog.)"""
    words = _CATALOG_WORDS.get(catalog.digest)
    if words is None:
        texts: list[str] = list(_PRODUCT_WORDS)
        for rule in catalog.rules:
            texts += [rule.id, rule.title, rule.description, rule.rationale, rule.remediation,
                      *(ref.title for ref in rule.references)]
            texts += _strings(rule.params)
        words = _CATALOG_WORDS[catalog.digest] = frozenset(_tokens(" ".join(texts)))
    return words


_CATALOG_WORDS: dict[str, frozenset[str]] = {}


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif _is_map(node):
        for key, value in node.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from _strings(item)


def _tokens(text: str) -> set[str]:
    """Each token and each part of a dotted or hyphenated one (``system-mysql``
    gives ``system-mysql``, ``system`` and ``mysql``)."""
    tokens = set(_TOKEN.findall(text))
    tokens.update(part for token in list(tokens) for part in re.split(r"[.-]", token))
    return tokens


#: Template syntax in a value: ``${VAR}``, ``${{VAR}}``, ``$VAR``, ``{{ ... }}``.
_TEMPLATED = re.compile(r"\$\{\{?[^}]*\}?\}|\{\{.*?\}\}|\$[A-Za-z_][A-Za-z0-9_]*", re.DOTALL)
#: A string quoted inside ``{{ ... }}``: a default (``default "pw"``), a literal.
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'')


def _literal_parts(value: str) -> list[str]:
    """What of a credential value is literal, and so secret. Without template
    syntax, the value. With it, the text around the placeholders and the
    strings quoted inside ``{{ ... }}`` (a default): a message quoting part
    of the value (the placeholder, or the rest) must not show them, while
    the placeholder names themselves (``${DB_PASSWORD}``) are no secret."""
    if "$" not in value and "{{" not in value:
        return [value]
    parts = []
    for template in _TEMPLATED.findall(value):
        if template.startswith("{{"):
            parts += [a or b for a, b in _QUOTED.findall(template)]
    parts += _TEMPLATED.split(value)
    return [part for part in (p.strip() for p in parts) if part]


def _encodings(value: str) -> Iterator[str]:
    """The value as a report could quote it: itself, base64 (standard and
    URL-safe) and URL-encoded. Base64 without its ``=`` padding: the padding is
    not secret, and one form then covers padded and unpadded text."""
    yield value
    raw = value.encode("utf-8")
    yield base64.b64encode(raw).decode("ascii").rstrip("=")
    yield base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
    yield _by_chunks(functools.partial(urllib.parse.quote, safe=""), value)
    yield _by_chunks(urllib.parse.quote_plus, value)


def _by_chunks(encode: Callable[[str], str], value: str, size: int = 65536) -> str:
    """``encode(value)`` for an encoding that works character by character, a
    chunk at a time: ``urllib.parse.quote`` keeps a list entry (8 bytes) per
    byte of what it encodes, 20 times the size of a long Secret value."""
    if len(value) <= size:
        return encode(value)
    return "".join(encode(value[at:at + size]) for at in range(0, len(value), size))


class Scrubber:
    """Replaces credential values that stand as whole tokens (module docstring)."""

    def __init__(self, secrets: Iterable[str], public: Iterable[str] = (),
                 then: Scrubber | None = None) -> None:
        """``then``: the scrubber whose work follows this one's (a finding's
        own field first, then the scan's credentials)."""
        self._then = then
        shown = set(public)
        # Texts lose URL userinfo before their tokens are scrubbed, so a secret
        # that is a whole URL is looked for as it then reads too.
        secrets = [v for s in secrets for v in ((s, without_userinfo(s)) if "://" in s else (s,))]
        values = {encoded for s in secrets for part in _literal_parts(s)
                  if len(part) >= MIN_SECRET_LENGTH and part not in shown
                  for encoded in _encodings(part)}
        self._values = sorted(v for v in values if len(v) >= MIN_SECRET_LENGTH and v not in shown)
        short = [v for v in self._values if len(v) <= LONG_VALUE]
        #: Longest first: where two overlap, the longer is replaced (as the trie does).
        self._long = sorted((v for v in self._values if len(v) > LONG_VALUE), key=len,
                            reverse=True)
        self._pattern = _alternation(short) if short else None

    @classmethod
    def from_resources(cls, resources: Iterable[Resource],
                       catalog: Catalog | None = None) -> Scrubber:
        resources = list(resources)
        public = public_words(resources)
        return cls(secret_values(resources),
                   [*public, *(catalog_words(catalog) if catalog else _PRODUCT_WORDS)])

    def text(self, value: str) -> str:
        """A message: scrubbed, then its long quoted values cut (``echo``)."""
        return cut_message(self._scrubbed(value))

    def _scrubbed(self, value: str) -> str:
        # The userinfo of every URL first: scrubbing tokens first could break a
        # URL up (a credential's literal part ``postgres://u:``) and leave its
        # password, or a ``${X:-default}`` in it, unrecognisable as userinfo.
        value = without_userinfo(value)
        for long_value in self._long:
            if long_value in value:
                value = _replace_whole_tokens(value, long_value)
        if self._pattern:
            value = self._pattern.sub(REDACTED, value)
        return value if self._then is None else self._then._scrubbed(value)

    def value(self, value: Any) -> Any:
        """``observed`` or ``expected``: every string scrubbed, then cut (``echo``)."""
        if isinstance(value, str):
            return cut(self._scrubbed(value))
        if isinstance(value, Mapping):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        return value


def _continues_token(text: str, at: int, step: int) -> bool:
    """Does the character at ``at`` (and, for ``.``/``-``, the one after it in
    direction ``step``) continue a token (module docstring)?"""
    if not 0 <= at < len(text):
        return False
    char = text[at]
    if _WORD_CHAR.match(char):
        return True
    beyond = at + step
    return char in ".-" and 0 <= beyond < len(text) and bool(_WORD_CHAR.match(text[beyond]))


def _replace_whole_tokens(text: str, value: str) -> str:
    """``value`` replaced where it stands as a whole token, by plain search:
    the regex of a value of megabytes would take hundreds of bytes per byte."""
    left = bool(_WORD_CHAR.match(value[0]))
    right = bool(_WORD_CHAR.match(value[-1]))
    pieces, start, at = [], 0, text.find(value)
    while at >= 0:
        end = at + len(value)
        if (not (left and _continues_token(text, at - 1, -1))
                and not (right and _continues_token(text, end, 1))):
            pieces += [text[start:at], REDACTED]
            start = end
            at = text.find(value, end)
        else:
            at = text.find(value, at + 1)
    return "".join([*pieces, text[start:]]) if pieces else text


def _guarded(value: str) -> str:
    """A flat regex for one value, with its token guards."""
    return (re.escape(value[0]) + _left_guard(value[0]) + re.escape(value[1:])
            + _right_guard(value[-1]))


def _left_guard(first: str) -> str:
    return _NOT_AFTER_TOKEN if _WORD_CHAR.match(first) else ""


def _right_guard(last: str) -> str:
    return _NOT_BEFORE_TOKEN if _WORD_CHAR.match(last) else ""


def _alternation(values: list[str]) -> re.Pattern[str]:
    """One regex for every value, as a trie: ``pass(?:word|phrase)?``.

    A flat ``a|b|c`` makes the regex engine try every value at every position
    of every text: scrubbing grew with findings x secrets (25x the time for 5x
    the documents). Factored by prefix, each position costs at most one branch
    per distinct next character. Longer branches come before ending at a node,
    so the longest value that stands as a whole token at a position wins.
    """
    trie: dict[str, Any] = {}
    for value in values:
        node = trie
        for char in value:
            node = node.setdefault(char, {})
        node[""] = True  # a value ends here
    try:
        branches = [re.escape(char) + _left_guard(char) + _trie_regex(child, char, first=True)
                    for char, child in sorted(trie.items())]
        return re.compile("|".join(branches))
    except (RecursionError, re.error):  # pathological nesting: the slow, sure way
        return re.compile("|".join(_guarded(v) for v in sorted(values, key=len, reverse=True)))


def _trie_regex(node: dict[str, Any], char: str, first: bool = False) -> str:
    """The regex that matches ``char`` and then the trie below ``node`` (the
    node ``char`` leads to); ``first``: the caller matched ``char`` already.
    Where a value ends, the right guard of its last character, as the last
    alternative: longer values are tried first."""
    chain = [] if first else [char]
    while len(node) == 1 and "" not in node:  # a run with no choice: a literal
        (char, node), = node.items()
        chain.append(char)
    branches = [_trie_regex(child, next_char)
                for next_char, child in sorted(node.items()) if next_char != ""]
    if "" in node:
        branches.append(_right_guard(char))  # end here (tried after the longer ones)
    if len(branches) == 1:
        return re.escape("".join(chain)) + branches[0]
    return re.escape("".join(chain)) + "(?:" + "|".join(branches) + ")"
