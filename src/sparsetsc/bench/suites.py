"""Named dataset suites and the parsing of ``--datasets`` (a suite, a list or a file)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEV", "DEV_BY_COST", "SUITES", "resolve_datasets"]

#: The 60 small UCR-2018 datasets of the development suite (train + test fit in memory and a
#: deep model trains on each in minutes on a laptop CPU).
DEV = tuple(
    """
    ACSF1 Adiac ArrowHead BME Beef BeetleFly BirdChicken CBF Chinatown Coffee Computers
    CricketY CricketZ DiatomSizeReduction DistalPhalanxOutlineAgeGroup DistalPhalanxTW
    ECG200 ECGFiveDays FaceFour FacesUCR FiftyWords GunPoint GunPointAgeSpan
    GunPointMaleVersusFemale GunPointOldVersusYoung Ham HouseTwenty InsectEPGRegularTrain
    InsectEPGSmallTrain ItalyPowerDemand Lightning7 Meat MedicalImages
    MiddlePhalanxOutlineAgeGroup MiddlePhalanxTW MoteStrain OSULeaf OliveOil Plane PowerCons
    ProximalPhalanxOutlineAgeGroup ProximalPhalanxOutlineCorrect ProximalPhalanxTW Rock
    ShapeletSim SmoothSubspace SonyAIBORobotSurface1 SonyAIBORobotSurface2 Strawberry
    SwedishLeaf SyntheticControl ToeSegmentation1 ToeSegmentation2 Trace TwoLeadECG UMD Wine
    WordSynonyms Worms WormsTwoClass
    """.split()
)

#: The dev suite, cheapest first: by training cases x time points of the official train split
#: (ties by name), so that a sweep cut short is still a coherent set of the cheapest datasets.
DEV_BY_COST = tuple(
    """
    Chinatown SonyAIBORobotSurface1 ItalyPowerDemand MoteStrain SonyAIBORobotSurface2
    TwoLeadECG SmoothSubspace ECGFiveDays BME CBF UMD DiatomSizeReduction GunPoint Coffee
    FaceFour ArrowHead ECG200 ShapeletSim InsectEPGSmallTrain BeetleFly BirdChicken
    ToeSegmentation1 ToeSegmentation2 Wine Beef Plane OliveOil SyntheticControl GunPointAgeSpan
    GunPointMaleVersusFemale GunPointOldVersusYoung Lightning7 PowerCons FacesUCR Meat Trace
    MiddlePhalanxTW DistalPhalanxOutlineAgeGroup DistalPhalanxTW MiddlePhalanxOutlineAgeGroup
    ProximalPhalanxOutlineAgeGroup ProximalPhalanxTW InsectEPGRegularTrain MedicalImages Ham
    ProximalPhalanxOutlineCorrect Rock SwedishLeaf Adiac WordSynonyms HouseTwenty OSULeaf
    CricketY CricketZ FiftyWords Strawberry ACSF1 Worms WormsTwoClass Computers
    """.split()
)

#: Suites by name. ``dev-large`` adds the four larger sets used to check scaling.
SUITES: dict[str, tuple[str, ...]] = {
    "smoke": ("GunPoint", "ItalyPowerDemand", "Coffee"),
    "dev": DEV,
    "dev-by-cost": DEV_BY_COST,
    "dev-large": DEV + ("FordA", "ElectricDevices", "ECG5000", "Crop"),
    "uea-dev": (
        "BasicMotions",
        "ArticularyWordRecognition",
        "UWaveGestureLibrary",
        "JapaneseVowels",
    ),
}


def resolve_datasets(spec: str) -> list[str]:
    """Dataset names from a suite name, a comma-separated list, or a file of names.

    A file holds one name per line (or comma-separated); ``#`` starts a comment. Duplicates
    are dropped, keeping the first occurrence, so a job is never scheduled twice.

    Raises
    ------
    ValueError
        If ``spec`` names nothing.
    """
    spec = spec.strip()
    if spec in SUITES:
        names = list(SUITES[spec])
    elif Path(spec).is_file():
        text = Path(spec).read_text()
        lines = (line.split("#", 1)[0] for line in text.splitlines())
        names = [name.strip() for line in lines for name in line.split(",")]
    else:
        names = [name.strip() for name in spec.split(",")]
    names = list(dict.fromkeys(name for name in names if name))
    if not names:
        raise ValueError(
            f"--datasets {spec!r} names no dataset; give a suite ({', '.join(SUITES)}), "
            "a comma-separated list or a file of names"
        )
    return names
