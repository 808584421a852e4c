"""GAN Studio's engine: core, data, train, generate and media sub-packages. No UI in here.

Importing the package sets TensorFlow's process-wide switches before TensorFlow itself loads.
TensorFlow turns its oneDNN CPU kernels on by default only on CPUs with AVX-512 VNNI/BF16 or AMX;
elsewhere (e.g. AVX2 AMD EPYC) it falls back to its Eigen kernels, which are much slower for the
DCGAN step (benchmarks/README.md), so the studio asks for oneDNN unless the environment says
otherwise (``TF_ENABLE_ONEDNN_OPTS=0`` turns it off).
"""

import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
