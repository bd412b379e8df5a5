"""Datasets: finding, downloading, reading and preparing UCR/UEA time-series collections.

Loading
-------
:func:`load_dataset` returns ``X`` as float32 ``(n_cases, n_channels, n_timepoints)`` and
``y`` as the label strings of the file (label encoding is left to the estimators);
:func:`load_train_test` loads both splits at one common length. A dataset is given by name
(``"GunPoint"``), by folder (``/data/GunPoint`` holding ``GunPoint_TRAIN.tsv`` or ``.ts``)
or by file (a single ``.tsv`` or ``.ts``). Both the UCR-2018 ``.tsv`` layout and UEA/tsml
``.ts`` files are read (``.tsv`` is preferred when both exist), with aeon's parsers.

Your own data
-------------
:func:`load_dataset` also reads a file of your own, and :func:`load_files` a training file
with an optional test file at one length: ``.csv`` / ``.tsv`` / ``.parquet`` tables with a
label column (the first by default; ``label_column`` by index or header name; a header row
is detected), ``.npz`` files holding ``X`` and ``y``, and ``.npy`` files of unlabelled
``X``. Univariate tables have one row per series; multivariate ones one row per case and
channel, with ``case`` and ``channel`` columns. :mod:`sparsetsc.data.tables` documents the
layouts; :func:`read_series_file` reads one file as it is.

Where names are looked up
-------------------------
1. The data root: the ``root`` argument, else ``$SPARSETSC_DATA``, else the cache
   (:func:`resolve_root`); both ``<root>/<Name>/`` and ``<root>/*/<Name>/``, so a folder
   holding ``UCRArchive_2018/`` and ``UEAArchive_2018/`` works.
2. The datasets bundled with the package (GunPoint; see ``bundled/SOURCES.md``).
3. The cache, :func:`cache_dir` (``$SPARSETSC_CACHE`` overrides it).
4. With ``download=True``, the tsml archive on Zenodo (:func:`download_dataset`;
   ``$SPARSETSC_ARCHIVE_URL`` overrides the record API URL), into the cache.

Names match exactly first, then ignoring case. An unknown name raises
:class:`DatasetNotFoundError`, which suggests the closest known names.
:func:`list_datasets` lists what is available locally, :func:`archive_datasets` what can be
downloaded.

Missing values and unequal length
---------------------------------
A UCR ``.tsv`` file pads shorter series with ``NaN`` at the end. ``NaN`` values after the
last observed value of a series are that padding (the series is shorter); ``NaN`` values
before it are missing values. In ``.ts`` files every ``NaN`` is a missing value. Loading
then applies, in this order:

``missing`` (:func:`fill_missing`)
    ``"interpolate"`` (default): linear between the neighbouring observed values, the
    nearest observed value for leading and trailing gaps, zeros for an empty channel;
    ``"zero"``: NaN becomes 0 (as in the official DSN and OS-CNN code); ``"error"``: refuse.
``unequal_length`` (:func:`equalize_length`), to ``length`` if given
    ``"pad"`` (default): zeros appended up to the longest series (as in the official DSN
    and OS-CNN code); ``"resample"``: linear interpolation onto the longest length;
    ``"truncate"``: cut to the shortest length; ``"error"``: refuse.

Equal-length data without missing values is returned exactly as parsed, cast to float32.
:func:`znormalize` standardises each series and channel over time (constant series become
zeros); the estimators apply it themselves.

Validation helpers :func:`check_X`, :func:`check_y` and :func:`check_labels_seen` raise one
clear ``ValueError`` per problem with the input of an estimator.

Layer 1 of **data** → nn → cost → train → sparse → prune → estimators → export → bench →
report → cli.
"""

from __future__ import annotations

from .archive import (
    DatasetFileError,
    DatasetNotFoundError,
    archive_datasets,
    describe_dataset,
    list_datasets,
    load_dataset,
    load_files,
    load_train_test,
    locate_dataset,
    resolve_root,
)
from .download import DownloadError, cache_dir, download_dataset
from .preprocess import equalize_length, fill_missing, znormalize
from .tables import read_series_file
from .validation import check_labels_seen, check_X, check_y

__all__ = [
    "DatasetFileError",
    "DatasetNotFoundError",
    "DownloadError",
    "archive_datasets",
    "cache_dir",
    "check_X",
    "check_labels_seen",
    "check_y",
    "describe_dataset",
    "download_dataset",
    "equalize_length",
    "fill_missing",
    "list_datasets",
    "load_dataset",
    "load_files",
    "load_train_test",
    "locate_dataset",
    "read_series_file",
    "resolve_root",
    "znormalize",
]
