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
import hashlib
import re
import string
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from checks import timings
from checks.engine.echo import cut, cut_message
from checks.model import Resource
from checks.objects import is_mapping

if TYPE_CHECKING:
    from checks.engine.catalog import Catalog

REDACTED = "<redacted>"
CREDENTIAL_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|_KEY$|^KEY$|APIKEY|API_KEY|CREDENTIAL"
                             r"|PRIVATE|DSN|CONNECTION_STRING|^URL$|DATABASE_URL",
                             re.IGNORECASE)
#: Shorter values would mangle ordinary words in messages.
MIN_SECRET_LENGTH = 4
#: Product keys as users type them (``--backup kong=PATH``): never secret.
_PRODUCT_WORDS = ("apiconnect", "api7", "kong", "3scale", "kubernetes")
#: A token of text: what a value embedded in it is part of (see the docstring).
_TOKEN = re.compile(r"\w+(?:[.-]\w+)*")
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
        if is_mapping(node) and isinstance(step, str):
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
    named = last == "value" and is_mapping(parent) and isinstance(parent.get("name"), str) \
        and looks_like_credential(parent["name"])
    return [node] if named or (isinstance(last, str) and looks_like_credential(last)) else []


def _pod_specs(body: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    spec = body.get("spec")
    if not is_mapping(spec):
        return
    yield spec
    for path in (("template", "spec"), ("jobTemplate", "spec", "template", "spec")):
        node: Any = spec
        for key in path:
            node = node.get(key) if is_mapping(node) else None
        if is_mapping(node):
            yield node


def _containers(body: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for pod in _pod_specs(body):
        for group in ("containers", "initContainers"):
            containers = pod.get(group)
            if isinstance(containers, list):
                yield from (c for c in containers if is_mapping(c))


def _env_vars(container: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    env = container.get("env")
    if isinstance(env, list):
        yield from (var for var in env if is_mapping(var))


def _container_env_values(body: Mapping[str, Any]) -> Iterator[str]:
    for container in _containers(body):
        for var in _env_vars(container):
            name, value = var.get("name"), var.get("value")
            if isinstance(value, str) and isinstance(name, str) and looks_like_credential(name):
                yield value


def _values_credentials(node: Any) -> Iterator[str]:
    if is_mapping(node):
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


def scan_words(resources: Iterable[Resource]) -> tuple[list[str], list[str]]:
    """(secrets, public words) of the scanned objects, in one walk over them.

    Secrets: every credential value the objects hold (to be scrubbed), and
    the password alone of those that are URLs (a message may quote it apart).

    Public words: the words of the scan that reports show anyway: object
    names, namespaces and kinds, container and env var names, keys of
    Secrets, ConfigMaps and Helm values. A credential value equal to one of
    them is not scrubbed. (One walk: the containers of every workload were
    gone through twice, once for each list.)"""
    secrets: list[str] = []
    public: set[str] = set()
    for resource in resources:
        body = resource.body
        public.update((resource.kind, resource.name, resource.namespace or ""))
        if resource.chart is not None:
            secrets.extend(_values_credentials(body))
            public.add(resource.chart)
            public.update(_keys(body))
            continue
        if resource.kind in ("Secret", "ConfigMap"):
            for field in ("data", "stringData", "binaryData"):
                node = body.get(field)
                if is_mapping(node):
                    public.update(map(str, node))
            secrets.extend(_secret_values(body) if resource.kind == "Secret"
                           else _container_env_values(body))
            continue
        for container in _containers(body):
            name = container.get("name")
            if isinstance(name, str):
                public.add(name)
            for var in _env_vars(container):
                var_name, value = var.get("name"), var.get("value")
                if isinstance(var_name, str):
                    public.add(var_name)
                    if isinstance(value, str) and looks_like_credential(var_name):
                        secrets.append(value)
    passwords = [m.group("password") for value in secrets if "://" in value
                 for m in _URL_USERINFO.finditer(value)]
    public.discard("")
    return secrets + passwords, sorted(public)


def _keys(node: Any) -> Iterator[str]:
    if is_mapping(node):
        for key, value in node.items():
            yield str(key)
            yield from _keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from _keys(item)


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
    elif is_mapping(node):
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
    raw = value.encode("utf-8", "surrogatepass")
    yield base64.b64encode(raw).decode("ascii").rstrip("=")
    yield base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
    yield url_quote(value)
    yield url_quote(value, plus=True)


#: What ``urllib.parse.quote(value, safe="")`` keeps (it escapes the rest).
_URL_SAFE = (string.ascii_letters + string.digits + "_.~-").encode("ascii")


def _percent(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match.group().encode("utf-8", "surrogatepass"))


def url_quote(value: str, plus: bool = False) -> str:
    """``urllib.parse.quote(value, safe="")`` (``quote_plus`` with ``plus``) in C:
    ``quote`` spends Python code on every byte, 3.8 s for the TLS certificates
    and keystores of 10,000 documents. Base64 text has three characters to
    escape: one ``str.replace`` each (``%`` first, as the others bring ``%``;
    with ``plus``, the space last, as it brings ``+``). Which of them occur,
    ``bytes.translate`` finds: a regex stepping through a keystore's 60 KB
    took a third of the scrubber's build."""
    if not value.isascii():
        quoted = re.sub(r"[^A-Za-z0-9_.~ -]+" if plus else r"[^A-Za-z0-9_.~-]+", _percent, value)
        return quoted.replace(" ", "+") if plus else quoted
    unsafe = set(value.encode("ascii").translate(None, _URL_SAFE).decode("ascii"))
    for char in sorted(unsafe, key=lambda char: (char != "%", char == " ")):
        value = value.replace(char, "+" if plus and char == " " else f"%{ord(char):02X}")
    return value


class _Entry(NamedTuple):
    """One value to replace: the value itself when short, else its digest
    (a large Secret's encodings are not kept)."""

    length: int
    value: str | None
    digest: bytes | None
    right_guard: bool  # ends with a word character: must not be followed by one


#: Entries are found by their first token (a value that starts with a word
#: character), capped at this length, or by their first MIN_SECRET_LENGTH
#: characters (a value that starts with punctuation, or one whose first token
#: is followed only by a final ``.`` or ``-``, which the text's token may continue).
_KEY_LENGTH = 128
#: Longer values are kept as a digest.
_SHORT = 64
#: The hash an entry is found in (``Scrubber._index``).
_BY_TOKEN, _BY_START, _BY_HEAD = 0, 1, 2


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _identity(text: str) -> str | bytes:
    """How an indexed text is known: itself when short, else its digest."""
    return text if len(text) <= _SHORT else _digest(text)


class _Indexed(NamedTuple):
    """An entry, where it is found, and what it stands for."""

    #: The literal part of a credential it encodes (``_identity``): if that
    #: part turns out to be a word reports show anyway, the entry goes.
    part: str | bytes
    #: The encoded value's own ``_identity``.
    identity: str | bytes
    entry: _Entry
    bucket: int
    key: str


class Credentials:
    """The credential values of one share of a scan, indexed: every literal
    part's encodings, long ones digested. This is the costly half of building
    a scrubber (encoding and digesting a keystore's 60 KB), so each ``--jobs``
    worker does it for the values it found and the parent only merges
    (``Scrubber.merged``), leaving out what another share shows as public.
    """

    def __init__(self, secrets: Iterable[str], shown: Iterable[str] = ()) -> None:
        with timings.phase("redaction"):
            self.indexed = list(_indexed(secrets, set(shown)))


def _indexed(secrets: Iterable[str], shown: set[str]) -> Iterator[_Indexed]:
    """Each value to replace, once per literal part it encodes (a large
    Secret's encodings are made, digested and dropped in turn)."""
    # Texts lose URL userinfo before their tokens are scrubbed, so a secret
    # that is a whole URL is looked for as it then reads too.
    expanded = [v for s in secrets for v in ((s, without_userinfo(s)) if "://" in s else (s,))]
    seen: set[tuple[str | bytes, int, str | bytes]] = set()
    for secret in expanded:
        for part in _literal_parts(secret):
            if len(part) < MIN_SECRET_LENGTH or part in shown:
                continue
            part_identity = _identity(part)
            for encoded in _encodings(part):
                if len(encoded) < MIN_SECRET_LENGTH or encoded in shown:
                    continue
                identity = part_identity if encoded is part else _identity(encoded)
                if (part_identity, len(encoded), identity) in seen:
                    continue
                seen.add((part_identity, len(encoded), identity))
                yield _Indexed(part_identity, identity, *_placed(encoded, identity))


def _placed(value: str, identity: str | bytes) -> tuple[_Entry, int, str]:
    """The entry for ``value``, the hash it goes in and its key there."""
    right_guard = bool(_WORD_CHAR.match(value[-1]))
    entry = (_Entry(len(value), value, None, right_guard) if isinstance(identity, str)
             else _Entry(len(value), None, identity, right_guard))
    # The first token, looked for in the value's head: a 70 KB base64 value
    # can be one token, and only the key's length of it is needed, unless
    # the value ends with ``.`` or ``-`` (then where the token ends decides).
    head = value[:_KEY_LENGTH + 2]
    first = _TOKEN.match(head)
    if first is None:  # starts with punctuation: may start anywhere
        return entry, _BY_HEAD, value[:MIN_SECRET_LENGTH]
    end = first.end()
    if end >= len(head) - 1 and len(value) > len(head) and value[-1] in ".-":
        end = _TOKEN.match(value).end()  # type: ignore[union-attr]  # as in the head
    if end == len(value) - 1 and value[-1] in ".-":
        return entry, _BY_START, value[:MIN_SECRET_LENGTH]
    # Where it stands as a whole token, the text's token is its first token.
    return entry, _BY_TOKEN, value[:min(end, _KEY_LENGTH)]


class Scrubber:
    """Replaces credential values that stand as whole tokens (module docstring).

    Linear in the text it scrubs and independent of the number of secrets:
    the text is split into tokens once, and each token is looked up in a hash
    of the values (and their encodings) whose first token it is (a value can
    stand as a whole token only where the text's token is its first token); a
    value that starts with punctuation is looked up by its first characters
    wherever one of those first characters occurs. Building it costs a hash
    entry per value; ``--jobs`` workers index their own values
    (``Credentials``) and receive the merged scrubber.
    """

    def __init__(self, secrets: Iterable[str], public: Iterable[str] = (),
                 then: Scrubber | None = None) -> None:
        """``then``: the scrubber whose work follows this one's (a finding's
        own field first, then the scan's credentials)."""
        credentials = Credentials(secrets, public)  # already without the public words
        with timings.phase("redaction"):
            self._then = then
            self._index(credentials.indexed)

    @classmethod
    def merged(cls, shares: Iterable[Credentials], public: Iterable[str]) -> Scrubber:
        """The scrubber of every share's credentials, less those that are
        words some share shows anyway (``scan_words``): each share left out
        only the words it showed itself."""
        scrubber = cls.__new__(cls)
        with timings.phase("redaction"):
            scrubber._then = None
            shown = set(public)
            shown_long = {_digest(word) for word in shown if len(word) > _SHORT}

            def is_shown(identity: str | bytes) -> bool:
                return identity in (shown if isinstance(identity, str) else shown_long)

            scrubber._index(item for share in shares for item in share.indexed
                            if not is_shown(item.part) and not is_shown(item.identity))
        return scrubber

    def _index(self, items: Iterable[_Indexed]) -> None:
        """Hash the entries, each encoded value once."""
        self._by_token: dict[str, list[_Entry]] = {}  # by first token
        self._by_start: dict[str, list[_Entry]] = {}  # at a token start, by first characters
        self._by_head: dict[str, list[_Entry]] = {}  # anywhere, by first characters
        self._heads: re.Pattern[str] | None = None
        buckets = (self._by_token, self._by_start, self._by_head)
        seen: set[tuple[int, str | bytes]] = set()
        for item in items:
            if (item.entry.length, item.identity) in seen:
                continue
            seen.add((item.entry.length, item.identity))
            buckets[item.bucket].setdefault(item.key, []).append(item.entry)
        # Longest first in each bucket: where two overlap, the longer is replaced.
        for bucket in (*self._by_token.values(), *self._by_start.values(),
                       *self._by_head.values()):
            bucket.sort(key=lambda entry: entry.length, reverse=True)
        if self._by_head:
            firsts = sorted({head[0] for head in self._by_head})
            self._heads = re.compile("|".join(map(re.escape, firsts)))

    @classmethod
    def from_resources(cls, resources: Iterable[Resource],
                       catalog: Catalog | None = None) -> Scrubber:
        resources = list(resources)
        with timings.phase("redaction"):
            secrets, public = scan_words(resources)
            return cls(secrets,
                       [*public, *(catalog_words(catalog) if catalog else _PRODUCT_WORDS)])

    def text(self, value: str) -> str:
        """A message: scrubbed, then its long quoted values cut (``echo``)."""
        with timings.phase("redaction"):
            return cut_message(self._scrubbed(value))

    def _scrubbed(self, value: str) -> str:
        # The userinfo of every URL first: scrubbing tokens first could break a
        # URL up (a credential's literal part ``postgres://u:``) and leave its
        # password, or a ``${X:-default}`` in it, unrecognisable as userinfo.
        value = self._replaced(without_userinfo(value))
        return value if self._then is None else self._then._scrubbed(value)

    def _replaced(self, text: str) -> str:
        """Every indexed value that stands as a whole token, leftmost first."""
        hits: list[tuple[int, int]] = []
        if self._by_token or self._by_start:
            by_token, by_start = self._by_token, self._by_start
            for token in _TOKEN.finditer(text):
                at = token.start()
                bucket = by_token.get(token.group()[:_KEY_LENGTH])
                end = 0 if bucket is None else _match(text, at, bucket)
                if by_start:
                    bucket = by_start.get(text[at:at + MIN_SECRET_LENGTH])
                    end = max(end, 0 if bucket is None else _match(text, at, bucket))
                if end:
                    hits.append((at, end))
        if self._heads is not None:
            for head in self._heads.finditer(text):
                at = head.start()
                bucket = self._by_head.get(text[at:at + MIN_SECRET_LENGTH])
                if bucket is not None:
                    end = _match(text, at, bucket)
                    if end:
                        hits.append((at, end))
        if not hits:
            return text
        hits.sort()
        pieces, done = [], 0
        for start, end in hits:
            if start >= done:  # a value inside one already replaced is gone with it
                pieces += [text[done:start], REDACTED]
                done = end
        pieces.append(text[done:])
        return "".join(pieces)

    def value(self, value: Any) -> Any:
        """``observed`` or ``expected``: every string scrubbed, then cut (``echo``)."""
        with timings.phase("redaction"):
            return self._value(value)

    def _value(self, value: Any) -> Any:
        if isinstance(value, str):
            return cut(self._scrubbed(value))
        if isinstance(value, Mapping):
            return {k: self._value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._value(v) for v in value]
        return value


def _match(text: str, at: int, bucket: list[_Entry]) -> int:
    """End of the longest entry that stands at ``at`` as a whole token, or 0."""
    for entry in bucket:
        end = at + entry.length
        if end > len(text):
            continue
        if entry.value is not None:
            if not text.startswith(entry.value, at):
                continue
        elif _digest(text[at:end]) != entry.digest:
            continue
        if entry.right_guard and _continues_token(text, end, 1):
            continue
        return end
    return 0


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
