"""Profiles: how a Context is set up for one file under the Basic Profile or the Pacsbin script."""

from __future__ import annotations

from collections.abc import Callable

from pydicom.dataset import Dataset

from .config import PACSBIN, Config
from .options import Option
from .pseudonyms import Derivations, patient_identity
from .scrub import compile_scrubber, identifiers
from .table import load_table
from .walker import Context

_DERIVATIONS: dict[bytes, Derivations] = {}


def derivations(config: Config) -> Derivations:
    """One Derivations per key, reused across files (it caches sub-keys and UID mappings)."""
    found = _DERIVATIONS.get(config.key.material)
    if found is None:
        if len(_DERIVATIONS) > 8:
            _DERIVATIONS.clear()
        found = _DERIVATIONS[config.key.material] = Derivations(config.key)
    return found


def _retained(config: Config) -> Callable[[int], bool]:
    """Attributes the chosen options keep (Retain Device Identity keeps Device Serial Number...): their
    values are not identifiers to blank elsewhere, or the scrub would undo what the user asked for."""
    table, options = load_table(), config.options

    def kept(tag: int) -> bool:
        row = table.lookup(tag)
        return row is not None and row.action(options)[0] == "K"

    return kept


def context_for(ds: Dataset, config: Config) -> Context:
    derive = derivations(config)
    patient = patient_identity(ds)
    shift = derive.date_shift_days(patient) if config.has(Option.RETAIN_MODIFIED_DATES) else None
    ctx = Context(
        config=config,
        derive=derive,
        sop_class=str(ds.get("SOPClassUID", "")).strip() or None,
        patient=patient,
        shift_days=shift,
        scrubber=compile_scrubber(identifiers(ds, kept=_retained(config))),
        map_uid=derive.uid,
    )
    if config.profile == PACSBIN:
        from .pacsbin import configure

        configure(ctx, ds)
    return ctx
