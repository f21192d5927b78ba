"""presentation_state_file(): a Grayscale Softcopy Presentation State with markers in its text
annotations, content creator, labels and image references.
"""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from .e11_table import _loc
from .iod_parts import CT_IMAGE_STORAGE, GRAYSCALE_SOFTCOPY_PS_STORAGE, _file_meta, _patient_study
from .planted import PlantedFile
from .planting import _Planter, _Source


def presentation_state_file(seed: int = 0) -> PlantedFile:
    """A Grayscale Softcopy Presentation State: text annotations, content creator, labels and
    references to an image series."""
    p = _Planter(_Source(seed, "gsps"))
    out = p.out
    out.name = "presentation_state"
    src = p.src
    ds = Dataset()
    sop_uid, study_uid, series_uid = src.uid(), src.uid(), src.uid()
    img_series, img_sop = src.uid(), src.uid()
    study_d, creation_d = src.key_dates([0, 3])
    out.temporal.update(StudyDate=study_d, PresentationCreationDate=creation_d)
    p.keep(ds, "", "SOPClassUID", GRAYSCALE_SOFTCOPY_PS_STORAGE)
    p.put(ds, 0x00080018, "", lambda w: p.uid(w, sop_uid))
    p.keep(ds, "", "Modality", "PR")
    _patient_study(p, ds, study_uid, study_d)
    p.put(ds, 0x0020000E, "", lambda w: p.uid(w, series_uid))
    p.keep(ds, "", "SeriesNumber", 900)
    p.keep(ds, "", "InstanceNumber", 1)
    p.keep(ds, "", "Manufacturer", "SYNTHETIC")
    p.put(ds, 0x00700080, "", label="ContentLabel [not in E.1-1]")
    p.put(ds, 0x00700081, "", label="ContentDescription [not in E.1-1]")
    p.put(ds, 0x00700082, "", lambda w: p.date(w, creation_d))  # PresentationCreationDate
    p.put(ds, 0x00700083, "")  # PresentationCreationTime
    p.put(ds, 0x00700084, "")  # ContentCreatorName

    rs_where = f"{_loc('', 0x00081115)}[0]"
    rs = Dataset()
    p.put(rs, 0x0020000E, rs_where, lambda w: p.uid(w, img_series))
    ri = Dataset()
    ri.ReferencedSOPClassUID = CT_IMAGE_STORAGE
    p.put(ri, 0x00081155, f"{rs_where} > {_loc('', 0x00081140)}[0]", lambda w: p.uid(w, img_sop))
    rs.ReferencedImageSequence = Sequence([ri])
    ds.ReferencedSeriesSequence = Sequence([rs])

    area = Dataset()
    area.DisplayedAreaTopLeftHandCorner = [1, 1]
    area.DisplayedAreaBottomRightHandCorner = [16, 16]
    area.PresentationSizeMode = "SCALE TO FIT"
    area.PresentationPixelAspectRatio = [1, 1]
    ds.DisplayedAreaSelectionSequence = Sequence([area])
    out.kept["DisplayedAreaSelectionSequence[0].DisplayedAreaBottomRightHandCorner"] = [16, 16]

    ga_where = f"{_loc('', 0x00700001)}[0]"
    ga = Dataset()
    ga_ref = Dataset()
    ga_ref.ReferencedSOPClassUID = CT_IMAGE_STORAGE
    p.put(ga_ref, 0x00081155, f"{ga_where} > {_loc('', 0x00081140)}[0]", lambda w: p.uid(w, img_sop))
    ga.ReferencedImageSequence = Sequence([ga_ref])
    ga.GraphicLayer = "LAYER1"
    text = Dataset()
    text_where = f"{ga_where} > {_loc('', 0x00700008)}[0]"
    p.put(text, 0x00700006, text_where, lambda w: f"Call {p.tok(w)} at home")  # UnformattedTextValue
    text.BoundingBoxAnnotationUnits = "PIXEL"
    text.BoundingBoxTopLeftHandCorner = [1.0, 1.0]
    text.BoundingBoxBottomRightHandCorner = [15.0, 8.0]
    text.BoundingBoxTextHorizontalJustification = "LEFT"
    ga.TextObjectSequence = Sequence([text])
    graphic = Dataset()
    graphic.GraphicAnnotationUnits = "PIXEL"
    graphic.GraphicDimensions = 2
    graphic.NumberOfGraphicPoints = 2
    graphic.GraphicData = [2.0, 2.0, 12.0, 12.0]
    graphic.GraphicType = "POLYLINE"
    graphic.GraphicFilled = "N"
    ga.GraphicObjectSequence = Sequence([graphic])
    ds.GraphicAnnotationSequence = Sequence([ga])

    layer = Dataset()
    layer.GraphicLayer = "LAYER1"
    layer.GraphicLayerOrder = 1
    p.put(layer, 0x00700068, f"{_loc('', 0x00700060)}[0]", label="GraphicLayerDescription [not in E.1-1]")
    ds.GraphicLayerSequence = Sequence([layer])
    out.kept["GraphicLayerSequence[0].GraphicLayer"] = "LAYER1"
    out.kept["GraphicLayerSequence[0].GraphicLayerOrder"] = 1
    p.keep(ds, "", "PresentationLUTShape", "IDENTITY")
    return p.finish(ds, _file_meta(GRAYSCALE_SOFTCOPY_PS_STORAGE, sop_uid))
