"""sr_file(): a Comprehensive SR with markers in its content tree and observer sequences."""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from .e11_table import _loc
from .iod_parts import COMPREHENSIVE_SR_STORAGE, CT_IMAGE_STORAGE, _code, _file_meta, _patient_study
from .planted import PlantedFile
from .planting import _Planter, _Source


def _content_item(rel: str, value_type: str, concept: Dataset) -> Dataset:
    item = Dataset()
    item.RelationshipType = rel
    item.ValueType = value_type
    item.ConceptNameCodeSequence = Sequence([concept])
    return item


def sr_file(seed: int = 0) -> PlantedFile:
    """A Comprehensive SR with markers in TEXT, PNAME, DATE, TIME, DATETIME, UIDREF and CODE (local
    scheme "99LOCAL") content items, a CONTAINER nested 3 levels deep, and the Verifying Observer,
    Author Observer, Participant and Custodial Organization sequences."""
    p = _Planter(_Source(seed, "sr"))
    out = p.out
    out.name = "sr"
    src = p.src
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    sop_uid, study_uid, series_uid = src.uid(), src.uid(), src.uid()
    img_study, img_series, img_sop = study_uid, src.uid(), src.uid()
    study_d, content_d = src.key_dates([0, 1])
    out.temporal.update(StudyDate=study_d, ContentDate=content_d)
    p.keep(ds, "", "SOPClassUID", COMPREHENSIVE_SR_STORAGE)
    p.put(ds, 0x00080018, "", lambda w: p.uid(w, sop_uid))
    p.keep(ds, "", "Modality", "SR")
    _patient_study(p, ds, study_uid, study_d)
    p.put(ds, 0x0020000E, "", lambda w: p.uid(w, series_uid))
    p.put(ds, 0x00080023, "", lambda w: p.date(w, content_d))
    p.put(ds, 0x00080033, "")
    p.keep(ds, "", "Manufacturer", "SYNTHETIC")
    p.keep(ds, "", "SeriesNumber", 1)
    p.keep(ds, "", "InstanceNumber", 1)
    ds.ReferencedPerformedProcedureStepSequence = Sequence()
    ds.PerformedProcedureCodeSequence = Sequence()
    p.keep(ds, "", "CompletionFlag", "COMPLETE")
    p.keep(ds, "", "VerificationFlag", "VERIFIED")

    # Verifying Observer, Author Observer, Participant, Custodial Organization
    vo_where = _loc("", 0x0040A073)
    vo = Dataset()
    pre = f"{vo_where}[0]"
    p.put(vo, 0x0040A075, pre)  # VerifyingObserverName
    p.put(vo, 0x0040A027, pre)  # VerifyingOrganization
    p.put(vo, 0x0040A030, pre)  # VerificationDateTime
    vo_code = Dataset()
    vo_pre = f"{pre} > {_loc('', 0x0040A088)}[0]"
    p.put(vo_code, 0x00080100, vo_pre, p.tok, label="CodeValue (person id)")
    vo_code.CodingSchemeDesignator = "99LOCAL"
    p.put(vo_code, 0x00080104, vo_pre, lambda w: f"Dr {p.tok(w)}", label="CodeMeaning (person)")
    vo.VerifyingObserverIdentificationCodeSequence = Sequence([vo_code])
    ds.VerifyingObserverSequence = Sequence([vo])

    author = Dataset()
    pre = f"{_loc('', 0x0040A078)}[0]"
    author.ObserverType = "PSN"
    p.put(author, 0x0040A123, pre)  # PersonName
    p.put(author, 0x00080080, pre)
    p.put(author, 0x00081040, pre)  # InstitutionalDepartmentName
    p.put(author, 0x00080081, pre)  # InstitutionAddress
    ds.AuthorObserverSequence = Sequence([author])

    participant = Dataset()
    pre = f"{_loc('', 0x0040A07A)}[0]"
    participant.ParticipationType = "ENT"
    p.put(participant, 0x0040A082, pre)  # ParticipationDateTime
    participant.ObserverType = "PSN"
    p.put(participant, 0x0040A123, pre)
    p.put(participant, 0x00080080, pre)
    ds.ParticipantSequence = Sequence([participant])

    custodian = Dataset()
    pre = f"{_loc('', 0x0040A07C)}[0]"
    p.put(custodian, 0x00080080, pre)
    ds.CustodialOrganizationSequence = Sequence([custodian])

    # Evidence: references to an imaging study (the same StudyInstanceUID, relationship kept)
    ev_where = f"{_loc('', 0x0040A375)}[0]"
    ev = Dataset()
    p.put(ev, 0x0020000D, ev_where, lambda w: p.uid(w, img_study))
    ser = Dataset()
    ser_where = f"{ev_where} > {_loc('', 0x00081115)}[0]"
    p.put(ser, 0x0020000E, ser_where, lambda w: p.uid(w, img_series))
    ref = Dataset()
    ref.ReferencedSOPClassUID = CT_IMAGE_STORAGE
    p.put(ref, 0x00081155, f"{ser_where} > {_loc('', 0x00081199)}[0]", lambda w: p.uid(w, img_sop))
    ser.ReferencedSOPSequence = Sequence([ref])
    ev.ReferencedSeriesSequence = Sequence([ser])
    ds.CurrentRequestedProcedureEvidenceSequence = Sequence([ev])

    # Document root and content tree
    p.keep(ds, "", "ValueType", "CONTAINER")
    ds.ConceptNameCodeSequence = Sequence([_code("18748-4", "LN", "Diagnostic Imaging Report")])
    out.kept["ConceptNameCodeSequence[0].CodeValue"] = "18748-4"
    p.keep(ds, "", "ContinuityOfContent", "SEPARATE")
    template = Dataset()
    template.MappingResource = "DCMR"
    template.TemplateIdentifier = "2000"
    ds.ContentTemplateSequence = Sequence([template])
    out.kept["ContentTemplateSequence[0].TemplateIdentifier"] = "2000"

    cs_where = _loc("", 0x0040A730)

    def items(prefix: str, deep: bool) -> list[Dataset]:
        def at(i: int) -> str:
            return f"{prefix}[{i}]"

        result: list[Dataset] = []
        pname = _content_item("HAS OBS CONTEXT", "PNAME", _code("121008", "DCM", "Person Observer Name"))
        p.put(pname, 0x0040A123, at(len(result)))
        result.append(pname)
        text = _content_item("CONTAINS", "TEXT", _code("121071", "DCM", "Finding"))
        p.put(
            text,
            0x0040A160,
            at(len(result)),
            lambda w: f"Patient {p.tok(w)} reports pain.",
            label="TextValue [not in E.1-1]",
        )
        p.put(text, 0x0040A032, at(len(result)))  # ObservationDateTime
        result.append(text)
        date = _content_item("CONTAINS", "DATE", _code("111060", "DCM", "Study Date"))
        p.put(date, 0x0040A121, at(len(result)))
        result.append(date)
        if not deep:
            return result
        time = _content_item("CONTAINS", "TIME", _code("111061", "DCM", "Study Time"))
        p.put(time, 0x0040A122, at(len(result)))
        result.append(time)
        datetime = _content_item("CONTAINS", "DATETIME", _code("111526", "DCM", "DateTime Started"))
        p.put(datetime, 0x0040A120, at(len(result)))
        result.append(datetime)
        uidref = _content_item(
            "HAS OBS CONTEXT", "UIDREF", _code("121018", "DCM", "Procedure Study Instance UID")
        )
        p.put(uidref, 0x0040A124, at(len(result)), lambda w: p.uid(w, img_study))
        result.append(uidref)
        code = _content_item("CONTAINS", "CODE", _code("121071", "DCM", "Finding"))
        code_pre = f"{at(len(result))} > {_loc('', 0x0040A168)}[0]"
        concept = Dataset()
        p.put(concept, 0x00080100, code_pre, p.tok, label="CodeValue (local code)")
        concept.CodingSchemeDesignator = "99LOCAL"
        p.put(
            concept,
            0x00080104,
            code_pre,
            lambda w: f"Lesion seen on {p.tok(w)}",
            label="CodeMeaning (local code)",
        )
        code.ConceptCodeSequence = Sequence([concept])
        result.append(code)
        num = _content_item("CONTAINS", "NUM", _code("121206", "DCM", "Distance"))
        measured = Dataset()
        measured.NumericValue = "12.5"
        measured.MeasurementUnitsCodeSequence = Sequence([_code("mm", "UCUM", "millimeter")])
        num.MeasuredValueSequence = Sequence([measured])
        result.append(num)
        image = _content_item("CONTAINS", "IMAGE", _code("121080", "DCM", "Best illustration of finding"))
        img_ref = Dataset()
        img_ref.ReferencedSOPClassUID = CT_IMAGE_STORAGE
        p.put(
            img_ref, 0x00081155, f"{at(len(result))} > {_loc('', 0x00081199)}[0]", lambda w: p.uid(w, img_sop)
        )
        image.ReferencedSOPSequence = Sequence([img_ref])
        result.append(image)
        return result

    def container(prefix: str, level: int) -> Dataset:
        box = _content_item("CONTAINS", "CONTAINER", _code("121070", "DCM", "Findings"))
        box.ContinuityOfContent = "SEPARATE"
        inner = f"{prefix} > {_loc('', 0x0040A730)}"
        children = items(inner, deep=level == 3)
        if level < 3:
            children.append(container(f"{inner}[{len(children)}]", level + 1))
        box.ContentSequence = Sequence(children)
        return box

    top = items(cs_where, deep=True)
    top.append(container(f"{cs_where}[{len(top)}]", 1))
    ds.ContentSequence = Sequence(top)

    return p.finish(ds, _file_meta(COMPREHENSIVE_SR_STORAGE, sop_uid))
