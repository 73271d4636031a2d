"""Hostile cases and property tests that fail today, in ONE place: id -> the
issue 9 item it belongs to.

The fixes are being made on other branches. Each entry becomes an
``xfail(strict=True)``: when a fix lands the case passes, the strict xfail
turns the suite red, and the entry must be removed here.
"""

from __future__ import annotations

_LATER_DOCUMENTS = ("Reports: a syntax error or duplicate key in document N no longer drops "
                    "documents N+1 onwards")
_WHOLE_FILE_LINE = "Reports: whole-file problems carry line 1, not null"
_UNCONVERTIBLE = ("Crashes: values the YAML 1.1 resolver accepts but cannot convert "
                  "(0x_, 0b_, 0o_, over 4,300 digits, !!int abc, !!float \"\", !!map [a], !!set [a])")
_TEMPLATE_OBJECTS = "Crashes: a Template whose objects is a mapping or a string"
_REPORT_STRINGS = ("Crashes: a lone surrogate or a file name that is not UTF-8 aborts report "
                   "writing")
_QUADRATIC = "Hangs: time grows quadratically with the number of documents in one file"

KNOWN_BROKEN: dict[str, str] = {
    # tests/hostile/test_hostile.py cases
    "broken-doc2-of-3": _LATER_DOCUMENTS,
    "duplicate-key-doc1-of-2": _LATER_DOCUMENTS,
    "empty-file-alone": _WHOLE_FILE_LINE,
    "comments-only-alone": _WHOLE_FILE_LINE,
    "stdin-over-limit": _WHOLE_FILE_LINE,
    "file-50mb": _WHOLE_FILE_LINE,
    "symlink-loop": _WHOLE_FILE_LINE,
    "scalar-0x_": _UNCONVERTIBLE,
    "scalar-0b_": _UNCONVERTIBLE,
    "scalar-0o_": _UNCONVERTIBLE,
    "scalar-int-5000-digits": _UNCONVERTIBLE,
    "scalar-tag-int-abc": _UNCONVERTIBLE,
    "scalar-tag-float-empty": _UNCONVERTIBLE,
    "scalar-tag-map-seq": _UNCONVERTIBLE,
    "scalar-tag-set-seq": _UNCONVERTIBLE,
    "json-int-5000-digits": _UNCONVERTIBLE,
    "template-objects-mapping": _TEMPLATE_OBJECTS,
    "template-objects-string": _TEMPLATE_OBJECTS,
    "template-param-3000-deep": ("Crashes: OpenShift Template ${{PARAM}} values are parsed with a "
                                 "plain YAML load that skips every guard (3,000 levels: RecursionError)"),
    "template-param-amplified": "Memory amplification: Template parameter expansion",
    "lone-surrogate-json": _REPORT_STRINGS,
    "non-utf8-file-name": _REPORT_STRINGS,
    "control-chars-file-name": ("Reports: JUnit stays well-formed XML when file names contain "
                                "control characters"),
    "fifo-in-directory": "Hangs: a FIFO named *.yaml blocks forever; only regular files are read",
    "symlink-to-dev-zero": ("Hangs: a symlink to /dev/zero is read until memory runs out; only "
                            "regular files are read, never more than the limit"),
    "symlink-leaves-tree": ("Reports: files reached through a symlink that leaves the scanned tree "
                            "are reported as skipped, not read"),
    "documents-20000-one-file": _QUADRATIC,
    "bare-separators-100000": _QUADRATIC,
    "version-5000-digits": _UNCONVERTIBLE,
    "fuzz-map-tag-on-scalar": _UNCONVERTIBLE,
    "fuzz-int-tag-on-key": _UNCONVERTIBLE,
    # tests/property/test_properties.py (Hypothesis)
    "property:loaders-json-like-Template": _TEMPLATE_OBJECTS,
    "property:loaders-text": _UNCONVERTIBLE,
    **{f"property:huge-digit-version-{product}": _UNCONVERTIBLE + "; also in version parsing"
       for product in ("3scale", "api7", "apiconnect", "kong", "kubernetes")},
    "secret-1mb-value": ("Memory amplification: the secret scrubber (about 290 bytes of memory per "
                         "byte of a large Secret value)"),
}
