"""study_of_files(): CT files of three patients that share study, series and frame-of-reference UIDs
and known date intervals, for the relationships across files that de-identification must keep.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from .e11_table import _loc
from .iod_parts import CT_IMAGE_STORAGE, EXPLICIT_VR_LITTLE_ENDIAN, _file_meta, _image_module
from .planted import PlantedFile
from .planting import _Planter, _Source


@dataclass
class _Patient:
    label: str
    name: str | None  # None: empty (present, zero length)
    patient_id: str | None
    birth_date: str | None
    study_uid: str
    study_date: str
    accession: str
    series: list[tuple[str, str, list[str]]]  # (series uid, frame of reference uid, sop uids)


def study_of_files(seed: int = 0, n_series: int = 2, n_instances: int = 3) -> list[PlantedFile]:
    """CT files of three patients.

    * Patient ``A``: one study with ``n_series`` series of ``n_instances`` instances. The files
      share StudyInstanceUID, and each series has its own SeriesInstanceUID and
      FrameOfReferenceUID. ReferencedImageSequence points at the next instance of the same series,
      and SourceImageSequence (in series 1 and later) points at the same instance number in
      series 0. SeriesDate = AcquisitionDate = StudyDate + (series index + 1) days;
      ContentDate = SeriesDate + 1 day; AcquisitionDateTime = SeriesDate at a distinct time per
      instance. Patients B and C follow the same date scheme from their own StudyDate.
    * Patient ``B``: an empty PatientID, but a name and a birth date (1 series, 2 instances).
    * Patient ``C``: an empty PatientID, an empty PatientName and no birth date (1 series,
      2 instances).

    Patient-level tokens are identical in all files of one patient. ``labels`` holds ``patient``,
    ``series`` and ``instance``. ``temporal`` holds each file's key dates."""
    src = _Source(seed, "study")
    a_dates = src.key_dates(range(n_series + 2))
    b_dates = src.key_dates(range(3))
    c_dates = src.key_dates(range(3))

    def new_series(count: int) -> tuple[str, str, list[str]]:
        return src.uid(), src.uid(), [src.uid() for _ in range(count)]

    patients = [
        _Patient(
            "A",
            src.token(),
            src.token(),
            src.date(),
            src.uid(),
            a_dates[0],
            src.token(),
            [new_series(n_instances) for _ in range(n_series)],
        ),
        _Patient("B", src.token(), None, src.date(), src.uid(), b_dates[0], src.token(), [new_series(2)]),
        _Patient("C", None, None, None, src.uid(), c_dates[0], src.token(), [new_series(2)]),
    ]
    return [
        _study_instance(src, pat, p_idx, s_idx, i_idx)
        for p_idx, pat in enumerate(patients)
        for s_idx, (_, _, sops) in enumerate(pat.series)
        for i_idx in range(len(sops))
    ]


def _study_instance(src: _Source, pat: _Patient, p_idx: int, s_idx: int, i_idx: int) -> PlantedFile:
    p = _Planter(src)
    out = p.out
    series_uid, for_uid, sops = pat.series[s_idx]
    sop_uid = sops[i_idx]
    out.name = f"patient {pat.label} series {s_idx} instance {i_idx}"
    out.labels.update(patient=pat.label, series=str(s_idx), instance=str(i_idx))
    base = _dt.datetime.strptime(pat.study_date, "%Y%m%d").date()
    series_d = (base + _dt.timedelta(days=s_idx + 1)).strftime("%Y%m%d")
    content_d = (base + _dt.timedelta(days=s_idx + 2)).strftime("%Y%m%d")
    acq_t = f"{7 + 3 * p_idx + s_idx:02d}{i_idx % 60:02d}{(10 + i_idx) % 60:02d}.{123457 + 1111 * i_idx}"
    out.temporal.update(
        StudyDate=pat.study_date,
        SeriesDate=series_d,
        AcquisitionDate=series_d,
        ContentDate=content_d,
        AcquisitionDateTime=f"{series_d}{acq_t}+0130",
    )

    ds = Dataset()
    p.keep(ds, "", "SOPClassUID", CT_IMAGE_STORAGE)
    p.put(ds, 0x00080018, "", lambda w: p.uid(w, sop_uid))
    p.keep(ds, "", "Modality", "CT")
    p.put(ds, 0x00100010, "", lambda w: f"{p.tok(w, value=pat.name)}^Pat" if pat.name else "")
    p.put(ds, 0x00100020, "", lambda w: p.tok(w, value=pat.patient_id) if pat.patient_id else "")
    if pat.birth_date:
        p.put(ds, 0x00100030, "", lambda w: p.date(w, pat.birth_date))
        out.temporal["PatientBirthDate"] = pat.birth_date
    else:
        ds.PatientBirthDate = ""
    ds.PatientSex = ""
    p.put(ds, 0x0020000D, "", lambda w: p.uid(w, pat.study_uid))
    p.put(ds, 0x00080050, "", lambda w: p.tok(w, value=pat.accession))
    p.put(ds, 0x00080020, "", lambda w: p.date(w, pat.study_date))
    p.put(ds, 0x00080021, "", lambda w: p.date(w, series_d))
    p.put(ds, 0x00080022, "", lambda w: p.date(w, series_d))
    p.put(ds, 0x00080023, "", lambda w: p.date(w, content_d))
    p.put(ds, 0x0008002A, "", lambda w: p.dt(w, series_d, acq_t))
    p.put(ds, 0x0020000E, "", lambda w: p.uid(w, series_uid))
    p.put(ds, 0x00200052, "", lambda w: p.uid(w, for_uid))
    for tag in (0x00080080, 0x00081010, 0x00081070, 0x00081050, 0x00181000, 0x00080090):
        p.put(ds, tag, "")
    p.keep(ds, "", "SeriesNumber", s_idx + 1)
    p.keep(ds, "", "InstanceNumber", i_idx + 1)
    p.keep(ds, "", "ImagePositionPatient", [-4.0, -4.0, float(i_idx)])

    ref = Dataset()
    ref.ReferencedSOPClassUID = CT_IMAGE_STORAGE
    target = sops[(i_idx + 1) % len(sops)]
    p.put(ref, 0x00081155, f"{_loc('', 0x00081140)}[0]", lambda w: p.uid(w, target))
    ds.ReferencedImageSequence = Sequence([ref])
    if s_idx > 0:
        first_series_sops = pat.series[0][2]
        source_target = first_series_sops[min(i_idx, len(first_series_sops) - 1)]
        source = Dataset()
        source.ReferencedSOPClassUID = CT_IMAGE_STORAGE
        p.put(source, 0x00081155, f"{_loc('', 0x00082112)}[0]", lambda w: p.uid(w, source_target))
        ds.SourceImageSequence = Sequence([source])

    _image_module(p, ds)
    out.kept["file_meta.TransferSyntaxUID"] = EXPLICIT_VR_LITTLE_ENDIAN
    return p.finish(ds, _file_meta(CT_IMAGE_STORAGE, sop_uid))
