"""What the server accepts (its policy), by default exactly what the page writes.

The page writes the Basic Profile (PS3.15 E.1.1) with the options of anonymizer.rules.options.DEFAULT_OPTIONS
(Retain Longitudinal Temporal Information with Modified Dates, Clean Pixel Data) and offers the other Clean
options (Descriptors, Structured Content, Graphics: E.3.3-E.3.5), which keep attributes only after cleaning
them. The Retain options (E.3.6-E.3.11) keep identity on purpose (full dates, the patient's age, sex and
size, the device, the institution, the original UIDs, private attributes), so a server that receives from
anyone holding a token accepts them only when its operator says so: `--accept-option NAME`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..rules.options import DEFAULT_OPTIONS, Option, parse_options

# Options that keep something identifying (PS3.15 E.3.6-E.3.11): refused unless accepted by name.
IDENTITY_OPTIONS: frozenset[Option] = frozenset(
    {
        Option.RETAIN_UIDS,
        Option.RETAIN_DEVICE_IDENTITY,
        Option.RETAIN_INSTITUTION_IDENTITY,
        Option.RETAIN_PATIENT_CHARACTERISTICS,
        Option.RETAIN_FULL_DATES,
        Option.RETAIN_SAFE_PRIVATE,
    }
)
# What the page writes or offers without keeping identity: the page's defaults and the Clean options.
PAGE_OPTIONS: frozenset[Option] = frozenset(Option) - IDENTITY_OPTIONS
assert DEFAULT_OPTIONS <= PAGE_OPTIONS, "the page's defaults must pass the server's default policy"

ACCEPT_OPTION_FLAG = "--accept-option"
ACCEPT_OTHERS_FLAG = "--accept-other-deidentifiers"
ACCEPT_DOCUMENTS_FLAG = "--accept-documents"
LEGACY_FLAG = "--allow-legacy-pacsbin"


@dataclass(frozen=True)
class Policy:
    """What the server accepts. The default is what the page writes."""

    options: frozenset[Option] = PAGE_OPTIONS  # options an upload may claim
    allow_legacy_pacsbin: bool = False  # the legacy Pacsbin script's profile (removal checks only)
    accept_other_deidentifiers: bool = False  # files no engine of ours marked (removal checks only)
    accept_documents: bool = False  # encapsulated PDF, CDA, STL, OBJ, MTL (content not cleaned)

    @classmethod
    def from_flags(
        cls,
        accept_options: Iterable[str] = (),
        *,
        allow_legacy_pacsbin: bool = False,
        accept_other_deidentifiers: bool = False,
        accept_documents: bool = False,
    ) -> Policy:
        """The policy of `serve` flags; raises ValueError naming an unknown option. Options accepted by name
        are accepted one by one: each may be claimed, and the dates' options still exclude each other in
        one file (the re-check says so), not in the policy."""
        names = list(accept_options)
        for name in names:
            parse_options([name])
        accepted = frozenset(Option(n.strip().lower()) for n in names)
        return cls(
            options=PAGE_OPTIONS | accepted,
            allow_legacy_pacsbin=allow_legacy_pacsbin,
            accept_other_deidentifiers=accept_other_deidentifiers,
            accept_documents=accept_documents,
        )


def refused_option(option: Option) -> str:
    """Why an upload claiming `option` is refused, with the flag that would accept it."""
    return (
        f"it claims the option {option.value} ({option.code.value} {option.code.meaning}) in "
        f"(0012,0064), which keeps identifying information; this server does not accept it (start the "
        f"server with {ACCEPT_OPTION_FLAG} {option.value} to accept it)"
    )
