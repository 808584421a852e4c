"""Datasets: the built-ins, the artists' own images, and the tf.data pipeline that feeds training.

Three kinds of source become one :class:`Dataset` in memory (uint8 images, optional int labels):

* ``builtins`` — ``digits`` (offline) and the ``keras.datasets`` classics, downloaded once and cached;
* ``store`` — datasets saved from uploads under ``data_dir()/datasets/<name>/``;
* ``loading`` — any of those by name, or (CLI only) a folder or ``.zip`` path.

``gate`` is the one way uploaded bytes get in (formats, sizes and zips checked before decoding),
``preprocess`` turns one decoded picture into a training square, ``pipeline`` streams batches.
The names below are the package's public API; the modules hold the rest.
"""

from studio.data.arrays import convert_channels, resize_images
from studio.data.builtins import (
    BUILTIN,
    BUILTINS,
    BuiltinInfo,
    builtin_cache_path,
    class_names,
    display_name,
    download_builtin,
    is_cached,
)
from studio.data.dataset import Dataset, DatasetInfo
from studio.data.gate import (
    MAX_FILES,
    MAX_UPLOAD_MB,
    MIN_IMAGES,
    SMALL_DATASET,
    IngestError,
    IngestReport,
    ingest_upload,
)
from studio.data.loading import load_dataset, load_preview
from studio.data.pipeline import make_pipeline
from studio.data.preprocess import CROPS, UPLOAD_SIZES, PreprocessOptions, preprocess_image
from studio.data.store import (
    dataset_names,
    datasets_dir,
    delete_dataset,
    list_datasets,
    read_meta,
    safe_dataset_name,
    save_dataset,
    saved_dataset_dir,
)

__all__ = [
    "BUILTIN",
    "BUILTINS",
    "CROPS",
    "MAX_FILES",
    "MAX_UPLOAD_MB",
    "MIN_IMAGES",
    "SMALL_DATASET",
    "UPLOAD_SIZES",
    "BuiltinInfo",
    "Dataset",
    "DatasetInfo",
    "IngestError",
    "IngestReport",
    "PreprocessOptions",
    "builtin_cache_path",
    "class_names",
    "convert_channels",
    "dataset_names",
    "datasets_dir",
    "delete_dataset",
    "display_name",
    "download_builtin",
    "ingest_upload",
    "is_cached",
    "list_datasets",
    "load_dataset",
    "load_preview",
    "make_pipeline",
    "preprocess_image",
    "read_meta",
    "resize_images",
    "safe_dataset_name",
    "save_dataset",
    "saved_dataset_dir",
]
